"""Compiles the translation catalogues into the build, so that a plain ``pip install .`` serves Chinese.

The ``.mo`` files are not in git (every developer edits ``messages.po``; a binary beside it would conflict on
every merge): they are made from the ``.po`` here, at build time, with Babel (a build requirement).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in Path("pingxuan/translations").glob("*/LC_MESSAGES/messages.po"):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source, target.open("wb") as out:
                write_mo(out, read_po(source))


setup(cmdclass={"build_py": BuildWithCatalogues})
