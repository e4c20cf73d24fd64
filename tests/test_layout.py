"""The layout holds: the transport imports nothing of ours, and no app module imports another in a circle."""

import ast
import os
import subprocess
import sys

from django.conf import settings

from tests.conftest import ROOT

# Every Django app of ours, plus the API package and the project package.
APPS = tuple(
    sorted({path.name for path in ROOT.iterdir() if (path / "apps.py").is_file()} | {"api", "voiceclone_site"})
)


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, known):
    """The app modules a file imports, anywhere in it (inside functions too)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            # `from clones import tasks` imports the module clones.tasks; `from clones.models import X`, clones.models.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph():
    files = [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    known = {module_name(path) for path in files}
    return {module_name(path): imported_modules(path, known) - {module_name(path)} for path in files}


def find_circle(graph):
    """One import circle as a list of modules, or None."""
    state = {}

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return [*trail[trail.index(target) :], target]
            if target not in state:
                circle = visit(target, [*trail, target])
                if circle:
                    return circle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            circle = visit(module, [module])
            if circle:
                return circle
    return None


def test_no_app_module_imports_another_in_a_circle():
    graph = import_graph()
    assert find_circle(graph) is None
    assert graph["clones.tasks"] >= {"clones.pipeline", "clones.models"}  # the walk sees imports at all


def test_the_walk_would_see_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_models_import_neither_the_tasks_nor_the_client():
    graph = import_graph()
    assert graph["clones.models"].isdisjoint({"clones.tasks", "clones.bigmodel", "clones.pipeline"})
    assert graph["studio.models"].isdisjoint({"studio.tasks", "studio.takes", "clones.bigmodel", "clones.pipeline"})


def test_the_provider_client_imports_nothing_of_the_project():
    assert import_graph()["clones.bigmodel"] == set()
    # In a fresh interpreter, without django.setup() (which would load every app's models): importing
    # the client and building one from the settings pulls in no other module of ours.
    script = (
        "import sys; from clones.bigmodel import BigModelClient; BigModelClient.from_settings().close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('clones', 'accounts', 'api')))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings_test",
        "VOICECLONE_TEST_DATA_DIR": str(settings.DATA_DIR),
    }
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ast.literal_eval(result.stdout.strip().splitlines()[-1]) == ["clones", "clones.bigmodel"]
