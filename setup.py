"""The compiled kernels (Cython, built at install time with the machine's compiler)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "curate.dedup._kernels",
                ["curate/dedup/_kernels.pyx"],
                language="c++",
                extra_compile_args=["-O3"],
            )
        ],
        compiler_directives={"language_level": "3"},
    )
)
