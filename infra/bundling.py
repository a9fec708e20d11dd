"""The Lambda code asset, bundled on this machine: no Docker engine needed.

CDK calls `PipBundler.try_bundle` before it would start a container. It installs requirements.txt for the
functions' platform (Linux, ARM64, the runtime's CPython) from binary wheels only, so nothing is compiled here
and the result does not depend on this machine's OS or Python, then copies the three source packages. Of
botocore's data it keeps the services the functions use (infra/sdk_data.py).

Then it compiles the bundle's bytecode with an interpreter of the runtime's Python version. Lambda's code
directory is read-only: without bytecode in the asset, every cold start compiles every module it imports, ours
and botocore's, pydantic's and Powertools' alike (docs/cold-start.md, "Bytecode, and botocore without boto3").
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from subprocess import TimeoutExpired, run
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, FileSystem, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.asset import LOCAL_ONLY, SDK_SERVICES, SOURCE_PACKAGES
from infra.sdk_data import slim_botocore

REPO_ROOT = Path(__file__).resolve().parent.parent


ASSET_EXCLUDES = [
    "*",
    ".*",
    "!requirements.txt",
    *(f"!{package}" for package in SOURCE_PACKAGES),
    *(f"!{package}/**" for package in SOURCE_PACKAGES),
    *LOCAL_ONLY,
    "__pycache__",
    "*.pyc",
]
"""An allowlist for the source fingerprint (the asset hash): requirements.txt and the three packages only.
So .venv, .git, tests, infra, bench, docs, cdk.out, node_modules, caches and any new top-level file stay out,
and the functions are redeployed only when their code or requirements change, or the bundler's (`RECIPE`).
Glob rules apply in order and `*` matches dot files only through `.*`."""

RECIPE = tuple(Path(__file__).resolve().parent / name for name in ("bundling.py", "sdk_data.py", "asset.py"))
"""The modules that decide what the bundler makes of the sources and requirements (which packages, which SDK data,
compiled how). They are part of the asset's hash: a change to them is a new asset, redeployed, even where no
function's code or requirement changed."""


def asset_hash(source: Path = REPO_ROOT, recipe: Iterable[Path] | None = None) -> str:
    """The code asset's hash: CDK's fingerprint of the bundled sources (ASSET_EXCLUDES), with the recipe's own
    source (`RECIPE` unless given) as its extra hash."""
    digest = hashlib.sha256()
    for module in RECIPE if recipe is None else recipe:
        digest.update(module.read_bytes())
    return FileSystem.fingerprint(str(source), exclude=ASSET_EXCLUDES, extra_hash=digest.hexdigest())


RUNTIME_PROVIDED = ("snapshot_restore_py",)
"""Modules the Python runtime ships and reads itself: SnapStart's hook registry. Requirements pin them for the
tests; the asset leaves them out, so the functions register into the very module the runtime runs hooks from."""

PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
"""Wheel tags for ARM64 Lambda. Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so wheels built
for glibc 2.28 run too; some projects publish only those for aarch64."""


def bytecode_compiler(python_version: str) -> str | None:
    """An interpreter of `python_version` ("3.14") on this machine, if any: only it writes bytecode that version
    reads (the magic number and the file names change with every minor version)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python_version:
        return sys.executable
    found = shutil.which(f"python{python_version}")
    if found is None:
        return None
    # A version manager's shim is on the PATH even where it refuses to run that version: ask the interpreter.
    ask = [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    try:
        probe = run(ask, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, TimeoutExpired):
        return None
    return found if probe.returncode == 0 and probe.stdout.strip() == python_version else None


@jsii.implements(ILocalBundling)
class PipBundler:
    """Local bundling: `pip install --target` for the Lambda platform, plus the source packages, compiled."""

    def __init__(
        self,
        runtime: lambda_.Runtime,
        source: Path = REPO_ROOT,
        *,
        compiler: Callable[[str], str | None] = bytecode_compiler,
    ) -> None:
        self.python_version = runtime.name.removeprefix("python")
        self.source = source
        self._compiler = compiler

    def pip_command(self, output_dir: str) -> list[str]:
        """The pip invocation; binary wheels only, for the runtime's platform and Python version."""
        platforms = [arg for tag in PLATFORMS for arg in ("--platform", tag)]
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--requirement",
            str(self.source / "requirements.txt"),
            "--target",
            output_dir,
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
            "--upgrade",
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        """Bundle into `output_dir`; a failure raises (falling back to Docker would only fail less clearly)."""
        print(f"Bundling the Lambda code locally for Python {self.python_version} on ARM64", file=sys.stderr)
        result = run(self.pip_command(output_dir), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pip could not install the Lambda requirements:\n{result.stdout}{result.stderr}")
        for module in RUNTIME_PROVIDED:
            for installed in Path(output_dir).glob(f"{module}*"):  # the module, or its package, and its metadata
                shutil.rmtree(installed) if installed.is_dir() else installed.unlink()
        slim_botocore(Path(output_dir) / "botocore", SDK_SERVICES)
        for package in SOURCE_PACKAGES:
            shutil.copytree(self.source / package, Path(output_dir) / package, ignore=self._ignore, dirs_exist_ok=True)
        self.compile_bytecode(output_dir)
        return True

    def compile_bytecode(self, output_dir: str) -> None:
        """Compile every module of the bundle for the runtime, or say why the asset ships source only.

        Unchecked hash-based files: the asset never changes once built, so the runtime need not compare each
        file with its source (and the zip does not keep the timestamps a default .pyc is checked against); no
        build time goes into them.
        """
        compiler = self._compiler(self.python_version)
        if compiler is None:
            print(
                f"No python{self.python_version} on this machine: the asset ships without bytecode, and each cold"
                ' start compiles what it imports (docs/deploy.md, "Bundling without Docker")',
                file=sys.stderr,
            )
            return
        command = [compiler, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", output_dir]
        result = run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # A file that does not compile (a template, another version's syntax) is compiled, or fails, on import.
            print(f"Some modules were left uncompiled:\n{result.stdout}{result.stderr}", file=sys.stderr)

    def _ignore(self, directory: str, names: list[str]) -> set[str]:
        """What copytree skips: bytecode, and the packages in LOCAL_ONLY."""
        skipped = set(shutil.ignore_patterns("__pycache__", "*.pyc")(directory, names))
        relative = Path(directory).relative_to(self.source)
        return skipped | {name for name in names if (relative / name).as_posix() in LOCAL_ONLY}


def lambda_code(runtime: lambda_.Runtime) -> lambda_.AssetCode:
    """One code asset for every function: the repository's packages and their pinned requirements."""
    return lambda_.Code.from_asset(
        str(REPO_ROOT),
        exclude=ASSET_EXCLUDES,
        # CDK would hash the sources and the bundling options only; a local bundler's own code is in neither.
        asset_hash=asset_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            # Required by the API but never pulled: PipBundler always bundles locally or raises. It names the
            # image SAM builds with, and the command does the same job, should someone drop the local bundler.
            image=runtime.bundling_image,
            command=[
                "bash",
                "-c",
                "pip install --no-compile -r requirements.txt -t /asset-output"
                f" && cp -r {' '.join(SOURCE_PACKAGES)} /asset-output",
            ],
            local=PipBundler(runtime),
        ),
    )
