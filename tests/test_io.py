"""atomic_write: a file is written whole or not at all."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from finetune_kit import DataError
from finetune_kit._io import atomic_write


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_text_is_written_as_utf8_with_unix_line_endings(tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    with atomic_write(dest) as fh:
        fh.write("première ligne\r\nzweite\n")
    assert dest.read_bytes() == "première ligne\r\nzweite\n".encode()
    with atomic_write(dest) as fh:
        fh.write("a\nb\n")
    assert dest.read_bytes() == b"a\nb\n"
    assert _leftovers(tmp_path) == []


def test_binary_mode_takes_bytes(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    with atomic_write(dest, binary=True) as fh:
        fh.write(b"\x00\xff\r\n")
    assert dest.read_bytes() == b"\x00\xff\r\n"


def test_a_failing_block_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    dest.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="half-way"), atomic_write(dest) as fh:
        fh.write("new, but only half")
        raise RuntimeError("half-way")
    assert dest.read_text(encoding="utf-8") == "old\n"
    assert _leftovers(tmp_path) == []


def test_an_interrupt_also_leaves_no_trace(tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt), atomic_write(dest) as fh:
        fh.write("x")
        raise KeyboardInterrupt
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_nothing_appears_at_the_destination_before_the_block_ends(tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    with atomic_write(dest) as fh:
        fh.write("x\n")
        assert not dest.exists()
        (tmp,) = _leftovers(tmp_path)
        assert tmp.startswith(".out.jsonl.")
    assert dest.read_text(encoding="utf-8") == "x\n"


def test_data_is_on_disk_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_size)  # flushed before the sync
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with atomic_write(tmp_path / "out.jsonl") as fh:
        fh.write("12345")
    assert synced == [5]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_the_result_has_the_mode_a_plain_open_gives(tmp_path: Path, umask: int, mode: int) -> None:
    umask = os.umask(umask)
    try:
        with atomic_write(tmp_path / "out.jsonl") as fh:
            fh.write("x")
        plain = tmp_path / "plain.txt"
        plain.write_text("x", encoding="utf-8")
    finally:
        os.umask(umask)
    written = stat.S_IMODE((tmp_path / "out.jsonl").stat().st_mode)
    assert written == stat.S_IMODE(plain.stat().st_mode) == mode


def test_a_relative_path_is_written_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with atomic_write("out.jsonl") as fh:
        fh.write("x")
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == "x"


def test_a_missing_folder_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    dest = tmp_path / "nope" / "out.jsonl"
    with pytest.raises(DataError) as info, atomic_write(dest):
        pytest.fail("the block must not run")
    assert info.value.message == "the output folder does not exist"
    assert info.value.file == str(dest)


def test_an_unwritable_folder_is_a_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # root may write anywhere: simulate it
    dest = tmp_path / "x.jsonl"
    raises = pytest.raises(DataError, match="cannot write here: Permission denied")
    with raises as info, atomic_write(dest):
        pytest.fail("the block must not run")
    assert info.value.file == str(dest)
