"""Cold start measured on what ships: the ``sam build`` output in ``.aws-sam/build``.

``.aws-sam/build/template.yaml`` (and the nested applications' built templates) name every
function's build directory (``CodeUri``) and the layer it uses (``CoreLayer``, whose importable
root is ``python/``). Each function is started the way Lambda starts it, in a fresh interpreter:

- the venv's Python 3.13 with ``-I -S -B``: isolated (no ``PYTHON*`` variables, no script
  directory on the path), no ``site`` (so none of the venv's site-packages), and no bytecode
  written by the measurement itself (``-B``; ``PYTHONDONTWRITEBYTECODE=1`` is set too) — the
  Lambda file system is read-only, so what the layer ships is all the bytecode there is;
- ``sys.path`` = [function build dir, layer ``python/`` dir] + the standard library, as
  ``/var/task``, ``/opt/python`` on Lambda;
- a clean environment: the function's ``Environment.Variables`` (``Globals`` merged with the
  function's own, ``Ref``/``GetAtt``/``Sub``/``Join`` resolved to plausible placeholders), the
  variables Lambda itself sets (``LAMBDA_TASK_ROOT`` switches Powertools Tracer on, as
  ``Tracing: Active`` does), ``AWS_REGION`` us-east-1, fake credentials and
  ``AWS_EC2_METADATA_DISABLED``.

It then times (a) ``import app`` and (b) the first ECR client the way the product makes it,
``ecr_archiver.adapters.clients.client("ecr")`` (boto3 loads there, and Powertools patches the SDK). Each
function runs once unrecorded (the OS file cache), then ``RUNS`` times, round robin; medians
are reported. Targets: import < 250 ms, import + first client < 450 ms.

One substitution: the layer's compiled extensions (``pydantic_core``, ``wrapt``) are arm64.
On another host the same module of the same version is loaded from the dev venv instead (a
``sys.meta_path`` finder for those module names only; the versions are checked); every other
file, ``.py`` and ``.pyc``, comes from the build.

``python -m benchmarks.coldstart [--runs N] [--build]``; ``benchmarks/run.py`` calls
:func:`import_timings` and :func:`artifact_sizes`.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
RUNS = 7
#: Median ``import app`` of the slowest function, and import + first ECR client.
TARGET_IMPORT_MS = 250.0
TARGET_IMPORT_AND_CLIENT_MS = 450.0

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "ecr-archiver"
#: Read by botocore for a profile; absent on Lambda, so pointed at nothing here.
_NO_FILE = str(ROOT / "benchmarks" / ".work" / "no-such-aws-file")
#: Sources whose change makes ``.aws-sam/build`` stale.
_SOURCES = ("template.yaml", "templates", "functions", "layers/core")


# -- reading the built templates -------------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that also reads short-form tags (``!Ref x`` -> ``{"Ref": "x"}``)."""


def _short_form(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)


def _load(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # a SafeLoader
    return loaded


_NO_VALUE = object()


class _Stack:
    """One built template, its intrinsic functions resolved to placeholder values.

    Parameters take what the parent stack passes (resolved in the parent), else their default;
    resources resolve to what ``Ref``/``GetAtt`` would return, with this fake account and
    region (a queue's URL, a bucket's name, a role's ARN, an SSM parameter's ``Name``).
    """

    def __init__(self, path: Path, parent: _Stack | None = None, given: Mapping[str, Any] | None = None):
        self.path = path
        self.dir = path.parent
        self.template = _load(path)
        self.parent = parent
        self.given = dict(given or {})
        self.resources: dict[str, Any] = self.template.get("Resources", {})

    # Ref / GetAtt ---------------------------------------------------------------------
    def parameter(self, name: str) -> Any:
        if name in self.given:
            assert self.parent is not None
            return self.parent.resolve(self.given[name])
        spec = self.template.get("Parameters", {}).get(name, {})
        default = spec.get("Default")
        if default is None:
            return f"{name.lower()}-placeholder"
        if spec.get("Type") == "CommaDelimitedList":
            return [part.strip() for part in str(default).split(",")]
        return str(default)

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::StackName": STACK,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        res = self.resources.get(name)
        if res is None:
            return f"{name.lower()}-placeholder"
        kind, props = res["Type"], res.get("Properties", {})
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK}-{name}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-{name}"
        if kind == "AWS::SSM::Parameter" and "Name" in props:
            return self.resolve(props["Name"])
        if kind in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{STACK}-{name}:1"
        return f"{STACK}-{name}".lower()

    def get_att(self, name: str, attribute: str) -> Any:
        res = self.resources.get(name, {})
        kind = str(res.get("Type", ""))
        if attribute.startswith("Outputs.") and kind == "AWS::Serverless::Application":
            nested = self.nested(name)
            return nested.resolve(nested.template["Outputs"][attribute.removeprefix("Outputs.")]["Value"])
        if attribute == "Arn":
            if kind == "AWS::IAM::Role":
                return f"arn:aws:iam::{ACCOUNT}:role/{STACK}-{name}"
            service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
            return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{STACK}-{name}"
        if attribute in ("QueueName", "Name", "TopicName"):
            return f"{STACK}-{name}"
        return f"{STACK}-{name}.{attribute}"

    def nested(self, name: str) -> _Stack:
        props = self.resources[name]["Properties"]
        return _Stack(self.dir / props["Location"], parent=self, given=props.get("Parameters", {}))

    # intrinsic functions ------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(self.resolve(variables[token]))
            if "." in token and not token.startswith("AWS::"):
                res, attribute = token.split(".", 1)
                return str(self.get_att(res, attribute))
            return str(self.ref(token))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, node: Any) -> Any:  # one branch per intrinsic
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                res, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(res, attribute)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return self._sub(text, variables)
            if key == "Fn::Join":
                delimiter, items = arg
                values = self.resolve(items)
                return str(delimiter).join(str(v) for v in values)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                delimiter, text = arg
                return str(self.resolve(text)).split(delimiter)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg), separators=(",", ":"))
            if key == "Fn::FindInMap":
                mapping, top, second = (self.resolve(a) for a in arg)
                return self.template["Mappings"][mapping][top][second]
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not _NO_VALUE}

    # layers -------------------------------------------------------------------------------
    def layer_dir(self, node: Any) -> Path:
        """The built directory (``python/``) of a layer a function lists."""
        if isinstance(node, dict) and set(node) == {"Ref"}:
            name = node["Ref"]
            if name in self.given and self.parent is not None:
                return self.parent.layer_dir(self.given[name])
            res = self.resources.get(name, {})
            if res.get("Type") in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
                props = res["Properties"]
                return self.dir / str(props.get("ContentUri") or props["Content"]) / "python"
        raise ValueError(f"{self.path}: cannot find the built layer of {node!r}")

    def functions(self) -> Iterator[BuiltFunction]:
        glob = self.template.get("Globals", {}).get("Function", {})
        for name, res in self.resources.items():
            kind = res["Type"]
            if kind == "AWS::Serverless::Application":
                yield from self.nested(name).functions()
            if kind != "AWS::Serverless::Function":
                continue
            props = res.get("Properties", {})
            variables = {
                **glob.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            environment = {k: _env_value(v) for k, v in self.resolve(variables).items()}
            handler = str(props.get("Handler") or glob.get("Handler", "app.lambda_handler"))
            yield BuiltFunction(
                name=_snake(name.removesuffix("Function")),
                logical_id=name,
                code_dir=self.dir / str(props["CodeUri"]),
                layer_dirs=tuple(
                    self.layer_dir(layer) for layer in props.get("Layers", glob.get("Layers", []))
                ),
                module=handler.rsplit(".", 1)[0],
                memory_mb=int(props.get("MemorySize", glob.get("MemorySize", 128))),
                environment=environment,
            )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class BuiltFunction:
    """A function of the ``sam build`` output, ready to start as Lambda would."""

    #: ``functions/<name>`` (``PlanArchiveFunction`` -> ``plan_archive``).
    name: str
    logical_id: str
    #: ``/var/task``.
    code_dir: Path
    #: ``/opt/python`` of each layer, in order.
    layer_dirs: tuple[Path, ...]
    #: The handler's module (``app`` of ``app.lambda_handler``).
    module: str
    memory_mb: int
    #: The template's ``Environment.Variables`` (Globals merged), placeholders resolved.
    environment: dict[str, str] = field(default_factory=dict)


def ensure_build(*, rebuild: bool = False) -> None:
    """``make build`` when ``.aws-sam/build`` is missing (or when asked); warn when it is older
    than the sources."""
    built = BUILD / "template.yaml"
    if rebuild or not built.is_file():
        print("running make build (sam build)", file=sys.stderr, flush=True)
        subprocess.run(["make", "build"], cwd=ROOT, check=True)
        return
    files = (p for src in _SOURCES for p in [ROOT / src, *(ROOT / src).rglob("*")])
    newest = max(
        (p.stat().st_mtime for p in files if p.is_file() and "__pycache__" not in p.parts), default=0.0
    )
    if newest > built.stat().st_mtime:
        print(
            "warning: .aws-sam/build is older than the sources; `make build` (or --build) to measure "
            "the current code",
            file=sys.stderr,
        )


def built_functions(build: Path = BUILD) -> list[BuiltFunction]:
    """Every function of the built stack (nested applications included), in template order."""
    return list(_Stack(build / "template.yaml").functions())


# -- the Lambda-like interpreter -------------------------------------------------------------
def _loadable(so: Path) -> bool:
    stem = so.name.split(".", 1)[0]
    return any(so.name == stem + suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def _dist_version(site: Path, top: str) -> str | None:
    for dist in site.glob(f"{top}-*.dist-info"):
        return dist.name.removesuffix(".dist-info").split("-", 1)[1]
    return None


def host_extensions(layer: Path) -> dict[str, str]:
    """Compiled modules of ``layer`` this interpreter cannot load (arm64 on another host): module
    name -> the same module, same distribution version, from the dev venv."""
    out: dict[str, str] = {}
    host_site = Path(sysconfig.get_paths()["platlib"])
    for so in sorted(layer.rglob("*.so")):
        if _loadable(so):
            continue
        rel = so.relative_to(layer)
        stem = so.name.split(".", 1)[0]
        module = ".".join([*rel.parent.parts, stem])
        top = rel.parts[0]
        shipped = _dist_version(layer, top)
        try:
            here = importlib.metadata.version(top)
        except importlib.metadata.PackageNotFoundError:
            here = None
        candidates = [
            host_site / rel.parent / f"{stem}{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
        ]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None or here is None or shipped != here:
            raise RuntimeError(
                f"{rel} is built for another platform ({platform.machine()} here) and the dev venv has no "
                f"{top} {shipped} to stand in for it (venv: {here})"
            )
        out[module] = str(found)
    return out


#: Run in the Lambda-like interpreter: argv = mode, handler module, code dir, layer dirs
#: (os.pathsep), then module=path of the host extensions. Nothing is imported before the clock starts but what
#: the interpreter has already loaded (importlib, sys, time).
_CHILD = r"""
import sys, time
mode, handler, code_dir, layers, *extensions = sys.argv[1:]
layer_dirs = layers.split(__import__("os").pathsep)
sys.path[:0] = [code_dir, *layer_dirs]
from importlib.machinery import ExtensionFileLoader, ModuleSpec, SourceFileLoader
HOST = dict(e.split("=", 1) for e in extensions)
class HostExtensions:
    @staticmethod
    def find_spec(name, path=None, target=None):
        so = HOST.get(name)
        if so is None:
            return None
        spec = ModuleSpec(name, ExtensionFileLoader(name, so), origin=so)
        spec.has_location = True
        return spec
if HOST:
    sys.meta_path.insert(0, HostExtensions)
compiled = []
if mode == "bytecode":
    source_to_code = SourceFileLoader.source_to_code
    def recording(self, data, path, *, _optimize=-1):
        compiled.append(path)
        return source_to_code(self, data, path, _optimize=_optimize)
    SourceFileLoader.source_to_code = recording
t0 = time.perf_counter()
__import__(handler)
t1 = time.perf_counter()
from ecr_archiver.adapters import clients
clients.client("ecr")
t2 = time.perf_counter()
if mode == "time":
    print(f"coldstart {(t1 - t0) * 1000:.3f} {(t2 - t1) * 1000:.3f}")
else:
    import importlib.util, os
    prefixes = tuple(os.path.join(d, "") for d in layer_dirs)
    problems = {}
    for path in compiled:
        if path.startswith(prefixes):
            problems[path] = "compiled from source at import"
    for name, module in sorted(sys.modules.items()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        if not origin.startswith(prefixes) or not origin.endswith(".py") or origin in problems:
            continue
        pyc = importlib.util.cache_from_source(origin)
        try:
            with open(pyc, "rb") as fh:
                head = fh.read(8)
        except OSError:
            problems[origin] = "no " + os.path.relpath(pyc, os.path.dirname(origin))
            continue
        if head[:4] != importlib.util.MAGIC_NUMBER:
            problems[origin] = "bytecode of another Python"
        elif int.from_bytes(head[4:8], "little") != 0b01:
            problems[origin] = "not unchecked-hash bytecode"
    for origin, problem in sorted(problems.items()):
        print(f"unprecompiled {origin}: {problem}")
"""


def lambda_environment(fn: BuiltFunction) -> dict[str, str]:
    """The environment Lambda gives ``fn``: its template variables and Lambda's own."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": f"{fn.module}.lambda_handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-{fn.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{STACK}-{fn.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "ASIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key",
        "AWS_SESSION_TOKEN": "fake-session-token",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": _NO_FILE,
        "AWS_SHARED_CREDENTIALS_FILE": _NO_FILE,
        "PYTHONDONTWRITEBYTECODE": "1",
        **fn.environment,
    }


def _run_child(fn: BuiltFunction, mode: str) -> str:
    if sys.version_info[:2] != (3, 13):
        raise RuntimeError(f"the layer is built for python3.13; run this with the venv's (not {sys.version})")
    extensions = {k: v for layer in fn.layer_dirs for k, v in host_extensions(layer).items()}
    argv = [
        sys.executable, "-I", "-S", "-B", "-c", _CHILD,
        mode, fn.module, str(fn.code_dir), os.pathsep.join(str(d) for d in fn.layer_dirs),
        *(f"{k}={v}" for k, v in extensions.items()),
    ]  # fmt: skip
    proc = subprocess.run(argv, env=lambda_environment(fn), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{fn.name}: the handler did not start ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


def start_once(fn: BuiltFunction) -> tuple[float, float]:
    """One cold start of ``fn``: (``import app`` ms, first ECR client ms)."""
    line = next(x for x in _run_child(fn, "time").splitlines() if x.startswith("coldstart "))
    _, imported, client = line.split()
    return float(imported), float(client)


def unprecompiled_modules(fn: BuiltFunction) -> list[str]:
    """Modules of the layer that ``fn``'s import and first client load without shipped bytecode
    (no unchecked-hash ``__pycache__/<name>.cpython-313.pyc``, or compiled from source)."""
    out = _run_child(fn, "bytecode").splitlines()
    found = [x.removeprefix("unprecompiled ") for x in out if x.startswith("unprecompiled ")]
    for layer in fn.layer_dirs:
        found = [x.removeprefix(f"{layer}{os.sep}") for x in found]
    return found


# -- the figures -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportTiming:
    handler: str
    #: Median ``import app``, ms.
    median_ms: float
    runs_ms: tuple[float, ...]
    #: Median of the first ``clients.client("ecr")`` alone, ms (after the import).
    first_client_ms: float = 0.0
    client_runs_ms: tuple[float, ...] = ()
    #: Median of import + first client in the same start, ms.
    import_and_client_ms: float = 0.0


def import_timings(runs: int = RUNS, *, rebuild: bool = False) -> list[ImportTiming]:
    """Median cold-start figures of every built function (see the module docstring)."""
    ensure_build(rebuild=rebuild)
    functions = built_functions()
    for fn in functions:
        start_once(fn)  # unrecorded: the OS file cache, as the measured runs all find it
    samples: dict[str, list[tuple[float, float]]] = {fn.name: [] for fn in functions}
    for _ in range(runs):
        for fn in functions:
            samples[fn.name].append(start_once(fn))
    return [
        ImportTiming(
            handler=name,
            median_ms=statistics.median(i for i, _ in runs_),
            runs_ms=tuple(i for i, _ in runs_),
            first_client_ms=statistics.median(c for _, c in runs_),
            client_runs_ms=tuple(c for _, c in runs_),
            import_and_client_ms=statistics.median(i + c for i, c in runs_),
        )
        for name, runs_ in samples.items()
    ]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def artifact_sizes() -> dict[str, int]:
    """Unzipped bytes of each built artifact (empty if ``sam build`` has not run)."""
    if not BUILD.is_dir():
        return {}
    return {p.name: dir_size(p) for p in sorted(BUILD.iterdir()) if p.is_dir()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"measured starts per function (default {RUNS})"
    )
    parser.add_argument("--build", action="store_true", help="run `make build` first")
    args = parser.parse_args(argv)
    timings = import_timings(args.runs, rebuild=args.build)
    print(f"{'function':16s} {'import':>8s} {'+ client':>9s} {'total':>8s}   import runs (ms)")
    for t in timings:
        print(
            f"{t.handler:16s} {t.median_ms:6.0f}ms {t.first_client_ms:7.0f}ms {t.import_and_client_ms:6.0f}ms"
            f"   {[round(x) for x in t.runs_ms]}"
        )
    slow_import = max(timings, key=lambda t: t.median_ms)
    slow_total = max(timings, key=lambda t: t.import_and_client_ms)
    ok = True
    for label, t, value, target in (
        ("import", slow_import, slow_import.median_ms, TARGET_IMPORT_MS),
        ("import + first client", slow_total, slow_total.import_and_client_ms, TARGET_IMPORT_AND_CLIENT_MS),
    ):
        met = value < target
        ok &= met
        verdict = "ok  " if met else "MISS"
        print(f"{verdict} {label} < {target:.0f} ms (median): slowest {t.handler} {value:.0f} ms")
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, {platform.machine()}")
    for name, size in artifact_sizes().items():
        print(f"{name:28s} {size / 1e6:7.2f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
