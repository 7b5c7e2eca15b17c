from __future__ import annotations

import inspect

import finetune_kit


def test_every_public_name_is_exported_and_documented() -> None:
    for name in finetune_kit.__all__:
        obj = getattr(finetune_kit, name)
        if name.startswith("__") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        assert inspect.getdoc(obj), f"{name} has no docstring"


def test_all_is_sorted_and_complete() -> None:
    assert len(set(finetune_kit.__all__)) == len(finetune_kit.__all__)
    for name in finetune_kit.__all__:
        assert hasattr(finetune_kit, name), name


def test_every_error_derives_from_the_base_error() -> None:
    from finetune_kit import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), finetune_kit.FinetuneKitError)
