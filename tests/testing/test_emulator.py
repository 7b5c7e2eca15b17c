"""The emulator's files, uploads, models and chat endpoints, driven through the real openai SDK."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime, timezone
from typing import Any

import httpx2
import openai
import pytest

from emulator_helpers import START, chat_jsonl, dpo_jsonl
from finetune_kit.testing import DEFAULT_SHUTDOWN_DATES, Emulator


def raw(emu: Emulator, method: str, path: str, **kwargs: Any) -> httpx2.Response:
    with httpx2.Client(base_url=emu.base_url) as http:
        response: httpx2.Response = http.request(method, path, **kwargs)
        return response


# -- server basics ------------------------------------------------------------------------------


def test_base_url_is_a_loopback_address_with_an_os_assigned_port(emu: Emulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", emu.base_url)
    assert emu.port > 0


def test_request_without_bearer_key_gets_openai_style_401(emu: Emulator) -> None:
    response = raw(emu, "GET", "/models")

    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "API key" in error["message"]


def test_wrong_key_is_rejected_when_the_emulator_has_a_key() -> None:
    with Emulator(api_key="sk-right") as emu:
        with pytest.raises(openai.AuthenticationError) as info:
            emu.client(api_key="sk-wrong-key-123", max_retries=0).models.list()
        assert info.value.code == "invalid_api_key"
        assert emu.client().models.list().data


def test_unknown_route_answers_invalid_url_404(emu: Emulator) -> None:
    response = raw(emu, "GET", "/nothing/here", headers={"Authorization": "Bearer sk-test"})

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/nothing/here)"


def test_responses_carry_a_request_id(client: openai.OpenAI) -> None:
    response = client.models.with_raw_response.list()

    assert response.headers["x-request-id"].startswith("req_")


def test_malformed_json_body_gets_400(emu: Emulator) -> None:
    response = raw(
        emu,
        "POST",
        "/fine_tuning/jobs",
        content=b"{not json",
        headers={"Authorization": "Bearer sk-test", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]


# -- files ---------------------------------------------------------------------------------------


def test_uploaded_finetune_file_moves_from_uploaded_to_processed(
    emu: Emulator, client: openai.OpenAI
) -> None:
    created = client.files.create(file=("train.jsonl", chat_jsonl()), purpose="fine-tune")
    assert created.status == "uploaded"
    assert created.id.startswith("file-")
    assert created.bytes == len(chat_jsonl())

    emu.advance(5)

    assert client.files.retrieve(created.id).status == "processed"


def test_dpo_file_is_processed(emu: Emulator, client: openai.OpenAI) -> None:
    created = client.files.create(file=("prefs.jsonl", dpo_jsonl()), purpose="fine-tune")
    emu.advance(5)

    assert client.files.retrieve(created.id).status == "processed"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (chat_jsonl(3) + b"{oops\n" + chat_jsonl(8), "Line 4"),
        (chat_jsonl(2) + b'{"prompt": "x", "completion": "y"}\n' + chat_jsonl(9), "Line 3"),
        (chat_jsonl(1) + b'{"messages": [{"role": "robot", "content": "x"}]}\n', "Line 2"),
        (chat_jsonl(1) + b'{"messages": [{"role": "user", "content": "x"}]}\n', "Line 2"),
        (chat_jsonl(4) + dpo_jsonl(8), "Line 5"),
        (chat_jsonl(5), "has 5 example(s), but must have at least 10"),
        (b"\xff\xfe", "UTF-8"),
    ],
    ids=["not-json", "unknown-format", "bad-role", "no-assistant", "mixed", "too-few", "binary"],
)
def test_invalid_file_gets_error_status_naming_the_first_bad_line(
    emu: Emulator, client: openai.OpenAI, content: bytes, expected: str
) -> None:
    created = client.files.create(file=("bad.jsonl", content), purpose="fine-tune")
    emu.advance(5)

    retrieved = client.files.retrieve(created.id)
    assert retrieved.status == "error"
    assert retrieved.status_details is not None
    assert expected in retrieved.status_details


def test_finetune_file_must_be_jsonl(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("train.csv", b"a,b\n"), purpose="fine-tune")

    assert "Must be .jsonl" in info.value.message


def test_unknown_purpose_is_a_400_naming_the_param(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("x.jsonl", b"{}"), purpose="nonsense")  # type: ignore[arg-type]

    assert info.value.param == "purpose"


def test_file_content_is_served_and_deleted_files_are_404(client: openai.OpenAI) -> None:
    created = client.files.create(file=("train.jsonl", chat_jsonl()), purpose="fine-tune")

    assert client.files.content(created.id).content == chat_jsonl()
    deleted = client.files.delete(created.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError) as info:
        client.files.retrieve(created.id)
    assert "No such File object" in info.value.message


def test_files_list_paginates_with_cursor_like_the_api(client: openai.OpenAI) -> None:
    ids = [
        client.files.create(file=(f"f{i}.jsonl", chat_jsonl()), purpose="fine-tune").id
        for i in range(5)
    ]

    first = client.files.list(limit=2)
    assert [f.id for f in first.data] == [ids[4], ids[3]]
    assert first.has_more is True
    body = first.model_dump()
    assert (body["first_id"], body["last_id"]) == (ids[4], ids[3])
    second = client.files.list(limit=2, after=ids[3])
    assert [f.id for f in second.data] == [ids[2], ids[1]]
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]
    assert [f.id for f in client.files.list(limit=2, order="asc")] == ids
    assert client.files.list(limit=10).has_more is False


def test_files_list_filters_by_purpose(client: openai.OpenAI) -> None:
    tuned = client.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    client.files.create(file=("b.jsonl", b"{}\n"), purpose="batch")

    assert [f.id for f in client.files.list(purpose="fine-tune")] == [tuned.id]


def test_files_list_rejects_out_of_range_limit(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.list(limit=0)

    assert info.value.param == "limit"


# -- uploads -------------------------------------------------------------------------------------


def test_upload_file_chunked_yields_a_file_inside_the_upload(
    emu: Emulator, client: openai.OpenAI
) -> None:
    data = chat_jsonl(40)

    upload = client.uploads.upload_file_chunked(
        file=data,
        filename="big.jsonl",
        bytes=len(data),
        mime_type="text/jsonl",
        purpose="fine-tune",
        part_size=256,
        md5=hashlib.md5(data).hexdigest(),
    )

    assert upload.status == "completed"
    assert upload.file is not None
    assert client.files.content(upload.file.id).content == data
    parts = [r for r in emu.requests if r.path.endswith("/parts")]
    assert len(parts) == -(-len(data) // 256)


def test_upload_complete_checks_size_and_md5(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=10, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=b"0123456789")

    with pytest.raises(openai.BadRequestError, match="md5"):
        client.uploads.complete(upload.id, part_ids=[part.id], md5="0" * 32)
    extra = client.uploads.parts.create(upload.id, data=b"more")
    with pytest.raises(openai.BadRequestError, match="does not match"):
        client.uploads.complete(upload.id, part_ids=[part.id, extra.id])
    done = client.uploads.complete(upload.id, part_ids=[part.id])
    assert done.file is not None
    assert done.file.bytes == 10


def test_cancelled_upload_takes_no_more_parts(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=3, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )

    assert client.uploads.cancel(upload.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"abc")


def test_upload_expires_after_an_hour(emu: Emulator, client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=3, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    emu.advance(3601)

    with pytest.raises(openai.BadRequestError, match="expired"):
        client.uploads.parts.create(upload.id, data=b"abc")


# -- models and chat -----------------------------------------------------------------------------


def test_models_list_has_base_models_with_shutdown_dates(client: openai.OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}

    for model, shutdown in DEFAULT_SHUTDOWN_DATES.items():
        assert models[model].shutdown_date == shutdown
    assert models["gpt-4.1-nano-2025-04-14"].shutdown_date is None
    assert client.models.retrieve("gpt-4o-2024-08-06").shutdown_date == "2027-01-14"


def test_shutdown_dates_are_configurable() -> None:
    dates = {"gpt-4.1-nano-2025-04-14": "2028-01-01", "my-base-model": None}
    with Emulator(shutdown_dates=dates) as emu:
        client = emu.client()
        assert client.models.retrieve("gpt-4.1-nano-2025-04-14").shutdown_date == "2028-01-01"
        assert client.models.retrieve("my-base-model").shutdown_date is None


def test_unknown_model_is_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-nonexistent")

    assert info.value.code == "model_not_found"


def test_chat_on_a_base_model_is_deterministic_and_counts_tokens(client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "Hello there, how are you?"}]

    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert first.choices[0].message.content == second.choices[0].message.content
    assert "gpt-4o-mini" in (first.choices[0].message.content or "")
    assert first.usage is not None
    assert first.usage.prompt_tokens > 0
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens


def test_chat_on_a_model_past_its_shutdown_date_is_refused() -> None:
    after = datetime(2027, 2, 1, tzinfo=timezone.utc)
    with (
        Emulator(manual_clock=True, start_time=after, enforce_shutdowns=True) as emu,
        pytest.raises(openai.NotFoundError, match="deprecated"),
    ):
        emu.client(max_retries=0).chat.completions.create(
            model="gpt-4o-mini-2024-07-18", messages=[{"role": "user", "content": "hi"}]
        )


def test_chat_rejects_streaming_and_missing_messages(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    with pytest.raises(openai.BadRequestError, match="streaming"):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
        )


# -- async ---------------------------------------------------------------------------------------


def test_async_client_drives_files_uploads_and_models(emu: Emulator) -> None:
    async def scenario() -> None:
        client = emu.async_client(max_retries=0)
        try:
            ids = [
                (
                    await client.files.create(
                        file=(f"{i}.jsonl", chat_jsonl()), purpose="fine-tune"
                    )
                ).id
                for i in range(3)
            ]
            listed = [f.id async for f in client.files.list(limit=1)]
            assert listed == ids[::-1]
            data = chat_jsonl(20)
            upload = await client.uploads.upload_file_chunked(
                file=data,
                filename="a.jsonl",
                bytes=len(data),
                mime_type="text/jsonl",
                purpose="fine-tune",
                part_size=300,
            )
            assert upload.file is not None
            assert (await client.files.content(upload.file.id)).content == data
            assert (await client.files.retrieve(ids[1])).filename == "1.jsonl"
            assert (await client.files.delete(ids[0])).deleted
            cancelled = await client.uploads.cancel(
                (
                    await client.uploads.create(
                        bytes=1, filename="c.jsonl", mime_type="text/jsonl", purpose="fine-tune"
                    )
                ).id
            )
            assert cancelled.status == "cancelled"
            reply = await client.chat.completions.create(
                model="gpt-4.1-nano", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.usage is not None
            model = await client.models.retrieve("gpt-4.1-mini-2025-04-14")
            assert model.shutdown_date == "2027-01-14"
        finally:
            await client.close()

    asyncio.run(scenario())


def test_ids_depend_on_the_seed_and_the_writes_only() -> None:
    def first_file_id(seed: int, reads: int) -> str:
        with Emulator(manual_clock=True, start_time=START, seed=seed) as emu:
            client = emu.client()
            for _ in range(reads):
                client.models.list()
            return client.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune").id

    assert first_file_id(7, reads=0) == first_file_id(7, reads=3)
    assert first_file_id(7, reads=0) != first_file_id(8, reads=0)
