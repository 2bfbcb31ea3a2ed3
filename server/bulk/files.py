"""Where export files live, behind a small interface so that an object store (S3-compatible: put on
close, get, delete by prefix) can replace the local directory without touching the job logic."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol


class FileWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> int:
        """Make the file visible under its key, whole (never partly); returns its size in bytes."""

    def abort(self) -> None: ...


class FileStore(Protocol):
    def writer(self, key: str) -> FileWriter: ...

    def exists(self, key: str) -> bool: ...

    def read(self, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]: ...

    def delete_prefix(self, prefix: str) -> None: ...


class _LocalWriter:
    def __init__(self, path: Path):
        self.path = path
        self.temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file: BinaryIO = open(self.temp, "wb", buffering=1 << 20)
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.size += len(data)

    def commit(self) -> int:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, self.path)  # atomic: a reader sees no file or the whole file
        return self.size

    def abort(self) -> None:
        self.file.close()
        self.temp.unlink(missing_ok=True)


class LocalFileStore:
    """Files under a directory; keys are relative paths made of safe segments."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not parts or any(not p or p in (".", "..") or p.startswith(".") for p in parts):
            raise ValueError(f"unsafe file key {key!r}")
        return self.root.joinpath(*parts)

    def writer(self, key: str) -> _LocalWriter:
        return _LocalWriter(self._path(key))

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except ValueError:
            return False

    def read(self, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        with open(self._path(key), "rb") as file:
            while chunk := file.read(chunk_size):
                yield chunk

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)


class FlatDirectoryStore(LocalFileStore):
    """Every file straight in one directory by its name (the CLI's --out): keys' folders are dropped."""

    def _path(self, key: str) -> Path:
        return super()._path(key.rpartition("/")[2])

    def delete_prefix(self, prefix: str) -> None:
        """Nothing to remove: a directory of one export only."""
