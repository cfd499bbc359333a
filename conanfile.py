"""Conan 2 recipe of pmmlrt: the C++ library (pmmlrt::pmmlrt), the C ABI library (pmmlrt::c) and the CLI.

    conan create . --build=missing                       # dependencies from ConanCenter
    conan create . -pr:a build/package-tests/offline.profile   # dependencies from the system (see README)

The version is read from include/pmmlrt/version.hpp, the single place it is written.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load

required_conan_version = ">=2.0"


class PmmlrtConan(ConanFile):
    name = "pmmlrt"
    description = "Embeddable C++ inference library for PMML models, with a stable C ABI"
    license = "Apache-2.0"
    topics = ("pmml", "machine-learning", "inference", "scoring")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False], "cli": [True, False]}
    default_options = {"shared": False, "fPIC": True, "cli": True}
    exports_sources = (
        "CMakeLists.txt", "cmake/*", "include/*", "src/*", "capi/*", "README.md", "CHANGELOG.md", "LICENSE",
    )

    def set_version(self):
        text = load(self, os.path.join(self.recipe_folder, "include", "pmmlrt", "version.hpp"))
        m = re.search(r'#define\s+PMMLRT_VERSION_STRING\s+"([^"]+)"', text)
        if not m:
            raise ConanInvalidConfiguration("PMMLRT_VERSION_STRING not found in include/pmmlrt/version.hpp")
        self.version = m.group(1)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self, src_folder=".")

    def requirements(self):
        # xtensor is in the public headers; the others are implementation details. xtensor 0.26 moved its
        # headers (xtensor/containers/...), so the range stops before it.
        self.requires("xtensor/[>=0.24.3 <0.26]", transitive_headers=True)
        self.requires("pugixml/[>=1.13 <2]")
        self.requires("fmt/[>=9.1.0 <11]")
        # Header-only, used by the implementation only: never visible to consumers.
        self.requires("eigen/[>=3.4.0 <4]", visible=False)

    def validate(self):
        check_min_cppstd(self, 17)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["PMMLRT_SHARED"] = bool(self.options.shared)
        tc.cache_variables["PMMLRT_BUILD_TESTS"] = False
        tc.cache_variables["PMMLRT_BUILD_EXAMPLES"] = False
        tc.cache_variables["PMMLRT_BUILD_BENCHMARKS"] = False
        tc.cache_variables["PMMLRT_BUILD_CLI"] = bool(self.options.cli)
        tc.cache_variables["PMMLRT_BUILD_CAPI"] = True
        tc.cache_variables["PMMLRT_INSTALL"] = True
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))

    def _is_platform(self, name):
        try:
            dep = self.dependencies[name]
        except KeyError:  # platform requirements are not in the dependency set at package_info() time
            return True
        return dep.ref.revision == "platform" or dep.package_folder is None

    def package_info(self):
        # The same names as the CMake package that `cmake --install` writes.
        self.cpp_info.set_property("cmake_file_name", "pmmlrt")
        self.cpp_info.set_property("cmake_target_name", "pmmlrt::all")
        self.cpp_info.set_property("pkg_config_name", "pmmlrt-all")

        # A dependency declared in a profile's [platform_requires] is the system's: it has no Conan package
        # (CMakeDeps rejects components requiring one), so its libraries are linked as system libraries.
        def link(names):
            requires, system_libs = [], []
            for name, target, syslib in names:
                if self._is_platform(name):
                    system_libs += [syslib] if syslib else []
                else:
                    requires.append(target)
            return requires, system_libs

        cxx = self.cpp_info.components["cxx"]
        cxx.set_property("cmake_target_name", "pmmlrt::pmmlrt")
        cxx.set_property("pkg_config_name", "pmmlrt")
        cxx.libs = ["pmmlrt"]
        cxx.requires, cxx.system_libs = link([("xtensor", "xtensor::xtensor", None),
                                              ("pugixml", "pugixml::pugixml", "pugixml"),
                                              ("fmt", "fmt::fmt", "fmt")])
        if self.settings.os in ("Linux", "FreeBSD"):
            cxx.system_libs += ["m", "pthread"]

        c = self.cpp_info.components["c"]
        c.set_property("cmake_target_name", "pmmlrt::c")
        c.set_property("pkg_config_name", "pmmlrt-c")
        c.libs = ["pmmlrt_c"]
        # libpmmlrt_c carries the C++ core inside; it needs the shared libraries it was linked with.
        c.requires, _ = link([("pugixml", "pugixml::pugixml", None), ("fmt", "fmt::fmt", None)])
        if self.options.shared:
            c.requires.append("cxx")

        if self.options.cli:
            self.cpp_info.bindirs = ["bin"]
