"""Rules on content parts and images (vision fine-tuning)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from finetune_kit._checks import (
    IMAGE_URL_KEYS,
    PART_KEYS,
    Format,
    Problem,
    messages_of,
    parts_of,
    shape_of,
)
from finetune_kit.validation.engine import RuleContext
from finetune_kit.validation.rules._base import (
    _ASSISTANT,
    _USER,
    E,
    W,
    _rule,
    _semantic_rule,
)


@_rule(
    "unknown_content_part",
    E,
    "A content part's `type` is not `text` or `image_url`.",
    'use {"type": "text", "text": ...} or {"type": "image_url", "image_url": {"url": ...}}',
    bad='{"messages": [{"role": "user", "content": [{"type": "audio", "audio": "x"}]}, '
    + _ASSISTANT
    + "]}",
)
def _unknown_content_part(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not shape_of(obj, ctx.format).parts:
        return
    for path, msg in messages_of(obj, ctx.format):
        for i, part in parts_of(msg):
            if isinstance(part, dict) and part.get("type") not in PART_KEYS:
                yield Problem(
                    f"unknown content part type {part.get('type')!r}", f"{path}.content[{i}].type"
                )


@_rule(
    "invalid_content_part",
    E,
    "A content part is malformed (not an object, text part without a string `text`, image part "
    "without `image_url.url`).",
    'write parts as {"type": "text", "text": "..."} or {"type": "image_url", "image_url": '
    '{"url": "https://..."}}',
    bad='{"messages": [{"role": "user", "content": [{"type": "text", "content": "Hi"}]}, '
    + _ASSISTANT
    + "]}",
)
def _invalid_content_part(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if not shape_of(obj, ctx.format).parts:
        return
    for path, msg in messages_of(obj, ctx.format):
        for i, part in parts_of(msg):
            ppath = f"{path}.content[{i}]"
            if not isinstance(part, dict):
                yield Problem(f"content part is a {type(part).__name__}, not an object", ppath)
            elif part.get("type") == "text" and not isinstance(part.get("text"), str):
                yield Problem("text part has no string `text`", f"{ppath}.text")
            elif part.get("type") == "image_url":
                image = part.get("image_url")
                if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                    yield Problem("image part has no image_url.url", f"{ppath}.image_url.url")
                elif any(k not in IMAGE_URL_KEYS for k in image) or image.get("detail") not in (
                    None,
                    "auto",
                    "low",
                    "high",
                ):
                    yield Problem(
                        "image_url takes only url and detail (auto, low, high)",
                        f"{ppath}.image_url",
                    )


_semantic_rule(
    "image_in_assistant_message",
    E,
    "Images are only allowed in user messages.",
    "move the image to a user message",
    bad='{"messages": [' + _USER + ', {"role": "assistant", "content": [{"type": "image_url", '
    '"image_url": {"url": "https://example.com/a.png"}}]}]}',
)


_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


_MAX_IMAGE_BYTES = 10 * 1024 * 1024


_MAX_IMAGES = 10


def _images(obj: Mapping[str, Any], fmt: Format) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    shape = shape_of(obj, fmt)
    if not shape.parts:
        return found
    for path, msg in shape.messages:
        content = msg.get("content")
        if isinstance(content, list):
            for i, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "image_url":
                    image = part.get("image_url")
                    if isinstance(image, dict) and isinstance(image.get("url"), str):
                        found.append((f"{path}.content[{i}].image_url.url", image))
    return found


@_rule(
    "invalid_image",
    E,
    "An image is not an http(s) URL or a base64 data URL of a JPEG, PNG or WEBP image of at "
    "most 10 MB.",
    "use JPEG, PNG or WEBP up to 10 MB, as https://... or data:image/png;base64,...",
    bad='{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": '
    '{"url": "data:image/gif;base64,R0lGOD=="}}]}, ' + _ASSISTANT + "]}",
)
def _invalid_image(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, image in _images(obj, ctx.format):
        url: str = image["url"]
        if url.startswith(("https://", "http://")):
            continue
        if not url.startswith("data:"):
            yield Problem(f"image URL scheme {url.split(':', 1)[0]!r} is not supported", path)
            continue
        header, _, payload = url.partition(",")
        mime = header[5:].split(";", 1)[0].lower()
        if mime not in _IMAGE_TYPES:
            yield Problem(f"image type {mime or 'unknown'!r} is not JPEG, PNG or WEBP", path)
        elif ";base64" not in header:
            yield Problem("data URL is not base64-encoded", path)
        elif len(payload) * 3 // 4 > _MAX_IMAGE_BYTES:
            yield Problem(
                f"image is about {len(payload) * 3 // 4 / 2**20:.1f} MB (max 10 MB)", path
            )


@_rule(
    "too_many_images",
    W,
    "An example has more than 10 images (OpenAI's guide; Azure allows 64).",
    "split the conversation or drop images",
    bad='{"messages": [{"role": "user", "content": ['
    + ", ".join(['{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}'] * 11)
    + "]}, "
    + _ASSISTANT
    + "]}",
)
def _too_many_images(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    n = len(_images(obj, ctx.format))
    if n > _MAX_IMAGES:
        yield Problem(f"{n} images in one example (at most {_MAX_IMAGES})", "messages")


@_rule(
    "image_in_preference_example",
    E,
    "Preference (DPO) fine-tuning takes text only.",
    "remove the image, or train it with supervised vision fine-tuning",
    bad='{"input": {"messages": [{"role": "user", "content": [{"type": "image_url", '
    '"image_url": {"url": "https://x.test/a.png"}}]}]}, "preferred_output": ['
    + _ASSISTANT
    + '], "non_preferred_output": [{"role": "assistant", "content": "No."}]}',
    good='{"input": {"messages": [' + _USER + ']}, "preferred_output": [' + _ASSISTANT + "], "
    '"non_preferred_output": [{"role": "assistant", "content": "It is when a model is bad."}]}',
    formats=("preference",),
)
def _image_in_preference(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    for path, _image in _images(obj, ctx.format):
        yield Problem("image in a preference example", path.removesuffix(".image_url.url"))


@_rule(
    "model_lacks_vision",
    E,
    "The example has images but the chosen model cannot be fine-tuned on images.",
    "pick a model that supports vision fine-tuning (e.g. gpt-4o-2024-08-06) or drop the images",
    bad='{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": '
    '{"url": "https://x.test/a.png"}}]}, ' + _ASSISTANT + "]}",
    formats=("chat",),
)
def _model_lacks_vision(obj: Mapping[str, Any], ctx: RuleContext) -> Iterator[Problem]:
    if ctx.model is None or not _images(obj, ctx.format):
        return
    if not _supports_vision(ctx.model):
        yield Problem(f"{ctx.model} does not support vision fine-tuning", "messages")


@functools.lru_cache(maxsize=64)
def _supports_vision(model: str) -> bool:
    from finetune_kit.catalog.prices import PriceTable
    from finetune_kit.errors import FinetuneKitError

    try:
        return "vision" in PriceTable.load().get(model).methods
    except FinetuneKitError:
        return True  # unknown model: nothing to say here (the price lookup reports it)
