"""The ``emulator`` command: serve the loopback OpenAI emulator until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from finetune_kit.cli._common import app, console, errors_as_exit, fail
from finetune_kit.cli._options import PROVIDER, Provider


@app.command()
def emulator(
    port: Annotated[
        int, typer.Option(metavar="PORT", min=0, help="Port to listen on (0: any free port).")
    ] = 0,
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    faults: Annotated[
        Path | None,
        typer.Option(
            "--faults",
            metavar="PATH",
            help="JSON fault plan to apply (see docs/testing.md).",
            show_default="none",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            metavar="FACTOR", help="Emulated seconds per real second (jobs run this much faster)."
        ),
    ] = 100.0,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed for ids and loss curves.")] = 0,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", metavar="KEY", help="Accept only this key.", show_default="any key"
        ),
    ] = None,
    provider: Annotated[Provider, PROVIDER] = Provider.openai,
) -> None:
    """Serve an offline emulator of the OpenAI, Together AI or Fireworks AI API for its SDK."""
    from finetune_kit.testing.emulator import Emulator

    if provider in (Provider.together, Provider.fireworks):
        _serve_sdk_emulator(provider, host, port, faults, speed, seed, api_key)
        return
    if provider is Provider.azure:
        fail("there is no Azure emulator: the OpenAI one speaks the same API (--provider openai)")
    with errors_as_exit():
        emu = Emulator(
            host=host, port=port, faults=faults, speed=speed, seed=seed, api_key=api_key
        ).start()
    console.print(f"OpenAI emulator listening on [bold]{emu.base_url}[/]")
    console.print("Point the openai SDK (or any OpenAI client) at it:")
    console.print(f"  export OPENAI_BASE_URL={emu.base_url}", soft_wrap=True)
    console.print(f"  export OPENAI_API_KEY={emu.api_key}", soft_wrap=True)
    console.print(
        f'  # or: OpenAI(base_url="{emu.base_url}", api_key="{emu.api_key}")', soft_wrap=True
    )
    if faults is not None:
        console.print(f"Fault plan: {faults} ({len(emu.fault_plan.faults)} rule(s))")
    console.print("Press Ctrl-C to stop.")
    emu.serve_forever()
    console.print("Emulator stopped.")


def _serve_sdk_emulator(
    provider: Provider,
    host: str,
    port: int,
    faults: Path | None,
    speed: float,
    seed: int,
    api_key: str | None,
) -> None:
    from finetune_kit.testing.emulator import LoopbackServer

    emu: LoopbackServer
    with errors_as_exit():
        if provider is Provider.fireworks:
            from finetune_kit.testing.fireworks import FireworksEmulator

            fw = FireworksEmulator(
                host=host, port=port, faults=faults, speed=speed, seed=seed, api_key=api_key
            ).start()
            emu, base_url, title, sdk, prefix = (
                fw,
                fw.base_url,
                "Fireworks AI",
                "Fireworks",
                "FIREWORKS",
            )
            extra = [("FIREWORKS_ACCOUNT_ID", fw.account_id)]
        else:
            from finetune_kit.testing.together import TogetherEmulator

            tg = TogetherEmulator(
                host=host, port=port, faults=faults, speed=speed, seed=seed, api_key=api_key
            ).start()
            emu, base_url, title, sdk, prefix = (
                tg,
                tg.base_url,
                "Together AI",
                "Together",
                "TOGETHER",
            )
            extra = []
    console.print(f"{title} emulator listening on [bold]{base_url}[/]")
    console.print(
        f"Point the {provider.value} SDK (or finetune-kit --provider {provider.value}) at it:"
    )
    for name, value in [
        (f"{prefix}_BASE_URL", base_url),
        (f"{prefix}_API_KEY", emu.api_key),
        *extra,
    ]:
        console.print(f"  export {name}={value}", soft_wrap=True)
    console.print(f'  # or: {sdk}(base_url="{base_url}", api_key="{emu.api_key}")', soft_wrap=True)
    if faults is not None:
        console.print(f"Fault plan: {faults} ({len(emu.fault_plan.faults)} rule(s))")
    console.print("Press Ctrl-C to stop.")
    emu.serve_forever()
    console.print("Emulator stopped.")
