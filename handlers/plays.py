"""The play verbs whose handlers do more than call one use case.

`lock` looks LoRAs up once the role is checked, and `fix` reads a mask from the thread's files
and answers a refused repair with a button.
"""

from __future__ import annotations

from bot.playbook.plays.fix import RegenerateInstead
from bot.slack import blocks, uploads
from handlers.context import Call, Reply


def lock(call: Call) -> None:
    """LoRAs are looked up in ATELIER_LORAS (name, sha256, family) once the role is checked."""
    args = dict(call.args)
    if "loras" in args:
        call.service.authorize(call.project_id, call.user, "lock_recipe")
        args["loras"] = [call.atelier.loras.choose(name, weight) for name, weight in args["loras"]]
    call.service.lock_recipe(call.project_id, call.user, **args)


def fix(call: Call) -> Reply | None:
    """A repair; one refused for its size comes back with a *Regenerate #N* button."""
    try:
        repair(call)
    except RegenerateInstead as refused:
        return Reply(
            f":no_entry: {refused}",
            blocks=[
                blocks.section(f":no_entry: {refused}"),
                {
                    "type": "actions",
                    "elements": [
                        blocks.button(
                            f"Regenerate #{refused.number}",
                            "regenerate",
                            f"{call.project_id}:{refused.number}",
                            "primary",
                        )
                    ],
                },
            ],
        )
    return None


def repair(call: Call) -> None:
    args = call.args
    mask_hash, coverage = None, None
    if args["mask"]:
        project = call.service.project(call.project_id)
        mask_hash, coverage = uploads.mask_from_upload(
            call.atelier, project, call.user, args["number"], call.files, force=args["force"]
        )
    call.service.fix_image(
        call.project_id,
        call.user,
        args["number"],
        mode=args["mode"],
        instruction=args["instruction"],
        cells=args["cells"],
        mask_hash=mask_hash,
        mask_coverage=coverage,
        strength=args["strength"],
        force=args["force"],
    )
