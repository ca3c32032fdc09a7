"""Puts the built libgmstore.so inside the package, so that one command,
`pip install ./python`, installs a working package. Builds the library
with cargo first if it is not there yet."""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "target" / "release" / "libgmstore.so"


class BuildWithLibrary(build_py):
    def run(self):
        if not LIB.is_file():
            subprocess.run(["cargo", "build", "--release", "--lib"], cwd=REPO, check=True)
        super().run()
        shutil.copy2(LIB, Path(self.build_lib) / "gmstore" / "libgmstore.so")


class BinaryDistribution(Distribution):
    """The wheel carries a native library: mark it platform-specific."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
