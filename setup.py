"""Builds the Python module `sluice` with CMake for pip (`pip install --no-build-isolation .`).

The extension sluice._sluice is CMake's target `_sluice` (python/CMakeLists.txt), built in
build/pip (Release, without tests, bench or CLI) unless SLUICE_CMAKE_BUILD_DIR names a
configured build tree to take it from; the API is python/sluice/*.py."""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).parent.resolve()


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build = os.environ.get("SLUICE_CMAKE_BUILD_DIR")
        if build:
            build = pathlib.Path(build).resolve()
        else:
            build = ROOT / "build" / "pip"
            subprocess.check_call(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", "-DSLUICE_BUILD_TESTS=OFF",
                                   "-DSLUICE_BUILD_BENCH=OFF", "-DSLUICE_BUILD_CLI=OFF", f"-DPython3_EXECUTABLE={sys.executable}"])
        jobs = os.environ.get("SLUICE_BUILD_JOBS", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", str(build), "--target", "_sluice", "-j", jobs])
        built = sorted((build / "python" / "sluice").glob("_sluice*.so"))
        if not built:
            raise RuntimeError(f"CMake built no _sluice module in {build}/python/sluice (is pybind11-dev installed?)")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)


setup(
    name="sluice",
    version="0.1.0",
    description="Offline batch inference at scale: Parquet/S3 -> preprocessing -> models -> predictions, exactly once",
    packages=["sluice"],
    package_dir={"": "python"},
    ext_modules=[CMakeExtension("sluice._sluice")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
