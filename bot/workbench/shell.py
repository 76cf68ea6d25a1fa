"""`atelier shell`: the local Slack stand-in, interactive, with messages drawn as text."""

from __future__ import annotations

import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from bot.config import Config
from bot.playbook.gate import item_named
from bot.workbench.local import LocalSlack
from bot.workbench.transcript import Transcript

CHANNEL = "CSHELL"
PEOPLE = {
    "dana": ("UDANA", "Dana (Director)"),
    "omar": ("UOMAR", "Omar (Operator)"),
    "ria": ("URIA", "Ria (Reviewer)"),
    "eddie": ("UEDDIE", "Eddie (Editor)"),
}
HELP = """Type what you would type in Slack:
  /atelier <command>          a slash command (try /atelier help)
  <text>                      a reply in the current project's thread
  press N [option]            click button N (or pick `option` in select N)
  tick N a b …                tick options in checkboxes N (keep/cull, gate boxes)
  type N <text>               type into input N (alt text), then press a button
  fill name=value …           fill the open modal's fields, then submit it
  react ts ✅|❌              react to the message whose number is ts (see [ts …])
  as dana|omar|ria|eddie      switch who you are
  quit"""


def mentions(text: str) -> str:
    """`@dana` as Slack writes a mention of the shell's Dana (`<@UDANA>`); other text as typed."""

    def person(match: re.Match[str]) -> str:
        known = PEOPLE.get(match.group(1).lower())
        return f"<@{known[0]}>" if known else match.group(0)

    return re.sub(r"(?<![<\w])@(\w+)", person, text)


def ticked_values(options: list[dict[str, Any]], said: str) -> list[str]:
    """The options `said` names: by the label shown (any case), by value, or a checklist synonym."""
    said = said.lower()
    typed = {word.lstrip("#") for word in said.split()}
    named = {item.value for word in typed if (item := item_named(word)) is not None}
    return [
        option["value"]
        for option in options
        if option["value"].lstrip("#") in typed
        or option["value"] in named
        or re.search(rf"(?<![\w/]){re.escape(option['text']['text'].lower())}(?![\w/])", said)
    ]


class Shell:
    def __init__(self, local: LocalSlack, out: TextIO) -> None:
        self.local = local
        self.slack = local.standin
        self.out = out
        self.user = PEOPLE["dana"][0]
        self.transcript = Transcript(self.slack, {uid: name for uid, name in PEOPLE.values()})
        self.controls: list[tuple[str, str, str]] = []
        self.seen: set[str] = set()

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def thread(self) -> str | None:
        roots = [m for m in self.slack.history(CHANNEL) if m.get("bot_id")]
        return roots[-1]["ts"] if roots else None

    def show_new(self) -> None:
        """Print messages (and ephemerals to me) not yet shown; edited ones again."""
        items: list[dict[str, Any]] = []
        thread = self.thread()
        pool = self.slack.history(CHANNEL) + (self.slack.thread(CHANNEL, thread) if thread else [])
        for message in pool + [e for e in self.slack.ephemerals_for(self.user)]:
            key = f"{message['ts']}:{(message.get('edited') or {}).get('ts', '')}"
            if key not in self.seen:
                self.seen.add(key)
                items.append(message)
        for message in sorted(items, key=lambda m: float(m["ts"])):
            prefix = "(only you) " if message.get("ephemeral") else ""
            self.say(
                f"[ts {message['ts']}] {prefix}"
                + self.transcript.message_text(message, self.controls)
            )

    def _show_modal_if_opened(self, before: int, wait: float = 3.0) -> None:
        """A click may open a modal (after its ack); show it and how to answer."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and len(self.slack.ws.views) <= before:
            time.sleep(0.05)
        if len(self.slack.ws.views) > before:
            view = self.slack.latest_view()
            inputs = [b["element"]["action_id"] for b in view.get("blocks", []) if b.get("element")]
            self.say(
                f"[modal: {view['title']['text']}] fields: {', '.join(inputs)} — answer with `fill name=value …`"
            )

    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line in ("quit", "exit"):
            return False
        words = line.split()
        try:
            if line.startswith("/atelier"):
                command = line.removeprefix("/atelier").strip()
                self.slack.command(self.user, CHANNEL, mentions(command))
            elif words[0] in SHELL_COMMANDS:
                SHELL_COMMANDS[words[0]](self, line, words)
            elif self.thread() is None:
                self.say("No project yet: start one with /atelier new <the intent in one sentence>")
                return True
            else:
                self.slack.say(self.user, CHANNEL, mentions(line), thread_ts=self.thread())
        except (IndexError, KeyError, ValueError) as error:
            self.say(
                f"Can't do that: {error}. Type `help` for the shell's commands."
                if line != "help"
                else HELP
            )
            return True
        try:
            self._quiet()
        except TimeoutError:
            self.say("(still working; new messages will show after your next line)")
        self.show_new()
        return True

    def as_person(self, _line: str, words: list[str]) -> None:
        if len(words) != 2:
            raise ValueError("say `as dana`, `as omar`, `as ria` or `as eddie`")
        self.user = PEOPLE[words[1]][0]
        self.say(f"You are now {PEOPLE[words[1]][1]}.")

    def press(self, _line: str, words: list[str]) -> None:
        ts, action_id, _ = self.controls[int(words[1]) - 1]
        views = len(self.slack.ws.views)
        self.slack.press(self.user, CHANNEL, ts, action_id, words[2] if len(words) > 2 else None)
        self._show_modal_if_opened(views)

    def tick(self, line: str, words: list[str]) -> None:
        """Tick options by what they show (`license`, `Alt text`, `#17`) or by value."""
        ts, action_id, _ = self.controls[int(words[1]) - 1]
        _, element = self.slack.element(CHANNEL, ts, action_id)
        said = line.split(None, 2)[2] if len(words) > 2 else ""
        ticked = ticked_values(element["options"], said)
        self.slack.set_state(CHANNEL, ts, action_id, ticked, dispatch_user=self.user)

    def type_text(self, line: str, words: list[str]) -> None:
        ts, action_id, _ = self.controls[int(words[1]) - 1]
        self.slack.set_state(
            CHANNEL, ts, action_id, line.split(None, 2)[2], dispatch_user=self.user
        )

    def fill(self, line: str, _words: list[str]) -> None:
        view = self.slack.latest_view()
        pairs = dict(part.split("=", 1) for part in shlex.split(line)[1:])
        fields: dict[str, Any] = {
            k: (v.split(",") if k in ("cells",) else v) for k, v in pairs.items()
        }
        answer = self.slack.submit(self.user, view["id"], fields)
        if answer.json().get("errors"):
            self.say(f"modal says: {answer.json()['errors']}")

    def react(self, _line: str, words: list[str]) -> None:
        if len(words) != 3:
            raise ValueError("say `react <ts> ✅` or `react <ts> ❌`")
        emoji = {"✅": "white_check_mark", "❌": "x"}.get(words[2], words[2].strip(":"))
        self.slack.react(self.user, CHANNEL, words[1], emoji)

    def _quiet(self, timeout: float = 300.0, calm: float = 0.5) -> None:
        """Wait until the app has acted: nothing new for `calm` seconds and no work pending."""
        deadline = time.monotonic() + timeout

        def snapshot() -> tuple[int, int, int]:
            posted = sum(len(messages) for messages in self.slack.ws.messages.values())
            return posted, len(self.slack.ws.ephemerals), len(self.slack.ws.calls)

        while time.monotonic() < deadline:
            before = snapshot()
            self.local.settle(timeout=max(1.0, deadline - time.monotonic()))
            time.sleep(calm)
            if snapshot() == before:
                return
        raise TimeoutError("the app is still busy")


# The shell's own words (see HELP); anything else is a thread reply.
SHELL_COMMANDS: dict[str, Callable[[Shell, str, list[str]], None]] = {
    "as": Shell.as_person,
    "press": Shell.press,
    "tick": Shell.tick,
    "type": Shell.type_text,
    "fill": Shell.fill,
    "react": Shell.react,
}


def main(config: Config, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    folder = tempfile.mkdtemp(prefix="atelier-shell-")
    config = replace(
        config, database_url=f"sqlite:///{folder}/shell.db", image_store=f"{folder}/store"
    )
    with LocalSlack(config, {uid: name for uid, name in PEOPLE.values()}) as local:
        shell = Shell(local, out)
        shell.say(
            "Atelier shell — a local Slack channel with Dana (Director), Omar (Operator) and Ria (Reviewer)."
        )
        shell.say(HELP)
        shell.say("You are Dana.")
        for line in stdin:
            if not stdin.isatty():
                shell.say(f"> {line.rstrip()}")
            if line.strip() == "help":
                shell.say(HELP)
                continue
            if not shell.handle(line):
                break
    return 0
