"""Build of the pmmlrt Python package: runs CMake on the pmmlrt source tree (the parent folder of this one,
or $PMMLRT_SOURCE_DIR) to build the C ABI library libpmmlrt_c, and bundles it inside the package, together
with the shared libraries it needs that are not part of the C/C++ runtime (e.g. libfmt, libpugixml).

Environment:
  PMMLRT_SOURCE_DIR   the pmmlrt source tree (default: the folder above python/)
  PMMLRT_LIBRARY      an already built libpmmlrt_c.so to bundle instead of building one
  PMMLRT_BUILD_DIR    the CMake build folder to use (kept between builds; default: a temporary folder)
  CMAKE               the cmake executable (default: cmake)

It also compiles pmmlrt._fast (src/pmmlrt/_fast.c, Python.h only), the single-record path of predict_one
without ctypes. The extension is optional: without a C compiler or the Python headers the build goes on and
the package uses ctypes alone (a py3-none wheel then; with the extension, the wheel is for this interpreter).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import Distribution, Extension, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Part of every Linux system (glibc, the GCC runtime): never bundled.
SYSTEM_LIBS = re.compile(r"^(ld-linux.*|linux-vdso.*|libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|libutil)\.so")


def _run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    subprocess.check_call([str(c) for c in cmd], **kw)


def _build_library():
    prebuilt = os.environ.get("PMMLRT_LIBRARY")
    if prebuilt:
        return Path(prebuilt).resolve()
    source = Path(os.environ.get("PMMLRT_SOURCE_DIR", HERE.parent)).resolve()
    if not (source / "capi" / "CMakeLists.txt").exists():
        sys.exit(f"pmmlrt: {source} is not the pmmlrt source tree (set PMMLRT_SOURCE_DIR)")
    build = Path(os.environ.get("PMMLRT_BUILD_DIR") or tempfile.mkdtemp(prefix="pmmlrt-build-"))
    cmake = os.environ.get("CMAKE", "cmake")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run([cmake, "-S", source, "-B", build, *generator, "-DCMAKE_BUILD_TYPE=Release",
          "-DPMMLRT_BUILD_TESTS=OFF", "-DPMMLRT_BUILD_CLI=OFF", "-DPMMLRT_BUILD_EXAMPLES=OFF",
          "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON", "-DCMAKE_INSTALL_RPATH=$ORIGIN"])
    _run([cmake, "--build", build, "--target", "pmmlrt_c", "--parallel", str(os.cpu_count() or 2)])
    return (build / "capi" / "libpmmlrt_c.so").resolve()


def _dependencies(lib):
    """Shared libraries `lib` loads that are not part of the system runtime, as paths."""
    try:
        out = subprocess.run(["ldd", str(lib)], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    deps = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if m and not SYSTEM_LIBS.match(m.group(1)) and os.path.exists(m.group(2)):
            deps.append((m.group(1), Path(m.group(2)).resolve()))
    return deps


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = _build_library()
        target = Path(self.build_lib) / "pmmlrt" / "_lib"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lib, target / "libpmmlrt_c.so")
        for soname, path in _dependencies(lib):
            shutil.copy2(path, target / soname)
            print(f"pmmlrt: bundled {soname} ({path})")


class BinaryDistribution(Distribution):
    """The wheel holds a native library: tag it for the platform, not as pure Python."""

    def has_ext_modules(self):
        return True


try:
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

    class PlatformWheel(_bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            impl, abi, plat = super().get_tag()
            if _extension_built(self):  # compiled for this interpreter's ABI
                return impl, abi, plat
            return "py3", "none", plat

    extra = {"bdist_wheel": PlatformWheel}
except ImportError:  # pragma: no cover
    extra = {}

FAST_EXTENSION = Extension("pmmlrt._fast", sources=["src/pmmlrt/_fast.c"], optional=True)


def _extension_built(command):
    build_ext = command.get_finalized_command("build_ext")
    return any(os.path.exists(path) for path in build_ext.get_outputs())


def _version():
    """PMMLRT_VERSION_STRING from include/pmmlrt/version.hpp: the project's one version number."""
    source = Path(os.environ.get("PMMLRT_SOURCE_DIR", HERE.parent))
    header = (source / "include" / "pmmlrt" / "version.hpp").read_text()
    match = re.search(r'#define PMMLRT_VERSION_STRING "([^"]+)"', header)
    if not match:
        raise RuntimeError("PMMLRT_VERSION_STRING not found in " + str(source / "include/pmmlrt/version.hpp"))
    return match.group(1)


setup(version=_version(), cmdclass={"build_py": BuildWithLibrary, **extra}, distclass=BinaryDistribution,
      ext_modules=[FAST_EXTENSION])
