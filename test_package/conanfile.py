"""Conan test_package of pmmlrt: builds the consumer programs of tests/consumer/src against the package
(pmmlrt::pmmlrt and pmmlrt::c through find_package(pmmlrt CONFIG)) and scores examples/models/iris_forest.pmml."""
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class PmmlrtTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain", "VirtualRunEnv"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        version = str(self.dependencies["pmmlrt"].ref.version)
        model = os.path.join(self.source_folder, os.pardir, "examples", "models", "iris_forest.pmml")
        for program in ("test_package_cpp", "test_package_c"):
            self.run(f'{os.path.join(self.cpp.build.bindir, program)} "{model}" {version}', env="conanrun")
