"""Regenerates libs/contracts from proto/.

protoc names Python modules after proto paths (vanban/documents/v1/...), which would collide
with the service packages (vanban.documents); the generated tree is therefore moved under
vanban.contracts and its imports rewritten to match.

Types: mypy-protobuf's plugins write the stubs beside each module: `*_pb2.pyi` (messages, enums
with their own value types, extensions) and `*_pb2_grpc.pyi` (the stubs, on a blocking or an
asyncio channel, the servicers and add_*_to_server), so that mypy checks every call the services
make through the contracts.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "libs" / "contracts" / "src" / "vanban" / "contracts"
IMPORT_RE = re.compile(r"^(from|import) vanban\.(?!contracts\.)", re.MULTILINE)


def main() -> int:
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    well_known = str(resources.files("grpc_tools") / "_proto")
    # mypy-protobuf's protoc plugins, installed beside this interpreter (a dev dependency).
    plugins = Path(sys.executable).parent
    if not (plugins / "protoc-gen-mypy").exists():
        print(f"no protoc-gen-mypy in {plugins}: run through `uv run`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--grpc_python_out={tmp}",
            f"--plugin=protoc-gen-mypy={plugins / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={plugins / 'protoc-gen-mypy_grpc'}",
            f"--mypy_out=quiet:{tmp}",
            f"--mypy_grpc_out=quiet:{tmp}",
            *protos,
        ]
        if protoc.main(args) != 0:
            print("protoc failed", file=sys.stderr)
            return 1
        generated = Path(tmp) / "vanban"
        for path in generated.rglob("*.py*"):
            text = path.read_text()
            text = IMPORT_RE.sub(r"\1 vanban.contracts.", text)
            path.write_text(text)
        for directory in [generated, *[d for d in generated.rglob("*") if d.is_dir()]]:
            (directory / "__init__.py").touch()
        if OUT_DIR.exists():
            shutil.rmtree(OUT_DIR)
        shutil.copytree(generated, OUT_DIR)
        (OUT_DIR / "py.typed").touch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
