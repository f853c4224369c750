"""Where the project's own files are (templates of certificates, migrations, data)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
