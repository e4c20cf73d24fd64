"""Every user-facing string is translated into Chinese, including strings added since the catalog was made.

The committed catalog could be complete and still miss a string someone marked later, so this extracts the
messages afresh from the code (Django's makemessages, as `make messages` does) into a copy of the project and
checks what comes out: nothing untranslated, nothing fuzzy, and every placeholder kept.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from tests.conftest import IN_CI, ROOT

# What `make messages` reads (the Makefile skips the rest with -i); only these are copied. Every app is
# needed, since makemessages sets Django up with all of INSTALLED_APPS.
APPS = sorted(path.name for path in ROOT.iterdir() if (path / "apps.py").is_file())
# api/ has no apps.py but is imported at setup (webhooks' receivers use its serializers).
SOURCES = ["manage.py", "voiceclone_site", "api", *APPS, "templates", "static", "locale"]
# printf-style (%(name)s, %d, %(seconds).1f) and brace-style ({name}, {0}) placeholders.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[^{}\s]*\}")


@pytest.fixture(scope="module")
def fresh_catalog(tmp_path_factory):
    if not (shutil.which("xgettext") and shutil.which("msgmerge") and shutil.which("msgfmt")):
        message = "GNU gettext is not installed (apt-get install gettext)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    tree = tmp_path_factory.mktemp("project")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(source, tree / name)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings", "DATA_DIR": str(tree / "data")}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--add-location", "file"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    path = tree / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    checked = subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    with path.open("rb") as po:
        return [message for message in read_po(po) if message.id]


def strings(message):
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_message_in_the_code_is_translated_into_chinese(fresh_catalog):
    assert len(fresh_catalog) > 200  # the extraction really found the app's strings
    untranslated = [message.id for message in fresh_catalog if not all(strings(message))]
    fuzzy = [message.id for message in fresh_catalog if message.fuzzy]
    assert not untranslated, "Not translated into Chinese (run `make messages`, then translate):\n" + "\n".join(
        map(repr, untranslated)
    )
    assert not fuzzy, "Fuzzy in the Chinese catalog (check the translation, then drop the flag):\n" + "\n".join(
        map(repr, fuzzy)
    )


def test_translations_keep_every_placeholder(fresh_catalog):
    broken = []
    for message in fresh_catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings(message):
            if string and sorted(PLACEHOLDER.findall(string)) != expected:
                broken.append(f"{ids[0]!r}: {string!r}")
    assert not broken, "Placeholders differ from the English:\n" + "\n".join(broken)
