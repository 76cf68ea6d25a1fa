"""The stand-in's channel drawn as a person sees it in Slack: HTML for the demo, text for the shell."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.workbench.standin import SlackStandIn

EMOJI = {
    "art": "🎨",
    "white_check_mark": "✅",
    "x": "❌",
    "white_large_square": "⬜",
    "arrows_counterclockwise": "🔄",
    "fast_forward": "⏭️",
    "double_vertical_bar": "⏸️",
    "arrow_forward": "▶️",
    "hourglass_flowing_sand": "⏳",
    "frame_with_picture": "🖼️",
    "star": "⭐",
    "scroll": "📜",
    "package": "📦",
    "mag": "🔍",
    "adhesive_bandage": "🩹",
    "shield": "🛡️",
    "warning": "⚠️",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "trophy": "🏆",
    "rocket": "🚀",
    "leftwards_arrow_with_hook": "↩️",
    "handshake": "🤝",
    "scissors": "✂️",
    "memo": "📝",
    "bar_chart": "📊",
    "arrow_up": "⬆️",
    "arrow_down": "⬇️",
    "left_right_arrow": "↔️",
}
CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;background:#f8f8f8;margin:0;color:#1d1c1d}
header{background:#3f0e40;color:#fff;padding:12px 24px;font-size:18px}
main{max-width:980px;margin:0 auto;padding:16px 24px}
.msg{display:flex;gap:10px;padding:8px 10px;background:#fff;border-radius:6px;margin:6px 0}
.avatar{width:36px;height:36px;border-radius:6px;background:#611f69;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700;flex:none}
.bot .avatar{background:#2eb67d}.who{font-weight:700}.when{color:#616061;font-size:12px;margin-left:6px}
.body{flex:1;min-width:0;line-height:1.45}.thread{margin-left:46px;border-left:3px solid #e0e0e0;padding-left:12px}
.eph{background:#f4f9ff;border:1px dashed #1264a3}.eph-label{color:#1264a3;font-size:12px}
.section{margin:4px 0}.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin:4px 0}
.context{color:#616061;font-size:13px;margin:4px 0}.imgblock img,.file img{max-width:560px;min-width:192px;image-rendering:pixelated;border:1px solid #ddd;border-radius:6px;display:block;margin:6px 0}
.imgtitle{font-size:12px;color:#616061}.actions{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0;align-items:center}
.btn{border:1px solid #bbb;border-radius:4px;padding:4px 12px;font-weight:700;font-size:14px;background:#fff}
.btn.primary{background:#007a5a;color:#fff;border-color:#007a5a}.btn.danger{background:#fff;color:#e01e5a;border-color:#e01e5a}
.select{border:1px solid #bbb;border-radius:4px;padding:4px 10px;color:#616061;background:#fff}
.check{display:inline-flex;align-items:center;gap:4px;margin-right:12px;font-size:14px}.box{width:14px;height:14px;border:1px solid #888;border-radius:3px;display:inline-block;text-align:center;line-height:14px;font-size:11px}
.box.on{background:#1264a3;color:#fff;border-color:#1264a3}.input label{font-weight:700;display:block}
.input .field{border:1px solid #bbb;border-radius:4px;padding:6px;min-height:18px;background:#fff;color:#1d1c1d}
.reactions span{display:inline-block;border:1px solid #ddd;border-radius:12px;padding:0 8px;margin-right:4px;font-size:13px;background:#f1f7fb}
code{background:#f3f3f3;border:1px solid #e0e0e0;border-radius:3px;padding:0 3px;font-size:13px}.edited{color:#888;font-size:12px}
"""


class Transcript:
    def __init__(self, standin: SlackStandIn, names: dict[str, str]) -> None:
        self.standin = standin
        self.names = {standin.bot_user_id: "Atelier", **names}

    def name(self, user: str | None) -> str:
        return self.names.get(user or "", user or "someone")

    # ---- mrkdwn -------------------------------------------------------------------------

    def mrkdwn_html(self, text: str) -> str:
        out = html.escape(text, quote=False)
        out = re.sub(
            r"&lt;@([A-Z0-9]+)(?:\|[^&]*)?&gt;",
            lambda m: f"<b>@{html.escape(self.name(m.group(1)))}</b>",
            out,
        )
        out = re.sub(r"&lt;(https?://[^|&]+)\|([^&]+)&gt;", r'<a href="\1">\2</a>', out)
        out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
        out = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", out)
        out = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", out)
        out = re.sub(r":([a-z0-9_+-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), out)
        return out.replace("\n", "<br>")

    def mrkdwn_text(self, text: str) -> str:
        out = re.sub(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + self.name(m.group(1)), text)
        return re.sub(r":([a-z0-9_+-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), out)

    # ---- HTML ---------------------------------------------------------------------------

    def write_html(self, channel: str, out: Path, title: str = "Atelier demo") -> Path:
        files = out / "files"
        files.mkdir(parents=True, exist_ok=True)
        parts = [
            f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style>",
            f"<header># {html.escape(channel.lower())} — {html.escape(title)}</header><main>",
        ]
        ephemerals = self.standin.ephemerals_for_channel(channel)
        loose = [e for e in ephemerals if not e.get("thread_ts")]
        for root in sorted(self.standin.history(channel) + loose, key=lambda m: float(m["ts"])):
            parts.append(self._message_html(root, files, ephemeral=bool(root.get("ephemeral"))))
            if root.get("ephemeral"):
                continue
            replies = [m for m in self.standin.thread(channel, root["ts"]) if m["ts"] != root["ts"]]
            extra = [e for e in ephemerals if e.get("thread_ts") == root["ts"]]
            if replies or extra:
                parts.append("<div class='thread'>")
                for item in sorted(replies + extra, key=lambda m: float(m["ts"])):
                    parts.append(
                        self._message_html(item, files, ephemeral=bool(item.get("ephemeral")))
                    )
                parts.append("</div>")
        parts.append("</main>")
        page = out / "index.html"
        page.write_text("\n".join(parts))
        return page

    def _message_html(self, message: dict[str, Any], files: Path, ephemeral: bool = False) -> str:
        is_bot = bool(message.get("bot_id")) or ephemeral
        who = "Atelier" if is_bot else self.name(message.get("user"))
        when = datetime.fromtimestamp(float(message["ts"]), UTC).strftime("%H:%M")
        body = []
        if ephemeral:
            body.append(
                f"<div class='eph-label'>Only visible to {html.escape(self.name(message.get('user')))}</div>"
            )
        if message.get("blocks"):
            body.extend(self._block_html(block, files, message) for block in message["blocks"])
        elif message.get("text"):
            body.append(f"<div class='section'>{self.mrkdwn_html(message['text'])}</div>")
        for file in message.get("files") or []:
            body.append(
                self._file_html(file["id"], file.get("title") or file.get("name", ""), files)
            )
        if message.get("edited"):
            body.append("<span class='edited'>(edited)</span>")
        if message.get("reactions"):
            pills = "".join(
                f"<span>{EMOJI.get(r['name'], ':' + r['name'] + ':')} {html.escape(', '.join(self.name(u) for u in r['users']))}</span>"
                for r in message["reactions"]
            )
            body.append(f"<div class='reactions'>{pills}</div>")
        classes = "msg" + (" bot" if is_bot else "") + (" eph" if ephemeral else "")
        return (
            f"<div class='{classes}'><div class='avatar'>{html.escape(who[:1].upper())}</div><div class='body'>"
            f"<span class='who'>{html.escape(who)}</span><span class='when'>{when}</span>{''.join(body)}</div></div>"
        )

    def _file_html(self, file_id: str, title: str, files: Path) -> str:
        stored = self.standin.ws.files.get(file_id)
        if stored is None or not stored.get("complete"):
            return "<div class='context'>(file unavailable)</div>"
        name = f"{file_id}-{re.sub(r'[^A-Za-z0-9._-]', '_', stored['name'])}"
        (files / name).write_bytes(stored["data"])
        if not str(stored.get("mimetype", "")).startswith("image/"):
            return f"<div class='file'>📦 <a href='files/{name}'>{html.escape(stored['name'])}</a></div>"
        return f"<div class='imgblock'><img src='files/{name}' alt='{html.escape(title)}'><div class='imgtitle'>{html.escape(title)}</div></div>"

    def _state(self, message: dict[str, Any]) -> dict[str, Any]:
        return self.standin.ws.ui_state.get(f"{message.get('channel')}:{message.get('ts')}", {})

    def _element_html(self, element: dict[str, Any], block_id: str, message: dict[str, Any]) -> str:
        kind = element.get("type")
        if kind == "button":
            style = element.get("style", "")
            return f"<span class='btn {style}'>{html.escape(element['text']['text'])}</span>"
        if kind == "checkboxes":
            state = self._state(message).get(block_id, {}).get(element["action_id"])
            chosen = {
                o["value"]
                for o in (
                    state["selected_options"] if state else element.get("initial_options", [])
                )
            }
            boxes = []
            for option in element["options"]:
                on = option["value"] in chosen
                boxes.append(
                    f"<span class='check'><span class='box{' on' if on else ''}'>{'✓' if on else ''}</span>{html.escape(option['text']['text'])}</span>"
                )
            return "".join(boxes)
        if kind in ("static_select", "radio_buttons", "overflow"):
            placeholder = (element.get("placeholder") or {}).get("text", "Choose…")
            return f"<span class='select'>{html.escape(placeholder)} ▾</span>"
        if kind == "plain_text_input":
            state = self._state(message).get(block_id, {}).get(element["action_id"])
            value = (state or {}).get("value") or element.get("initial_value") or ""
            placeholder = (element.get("placeholder") or {}).get("text", "")
            return f"<div class='field'>{html.escape(value) if value else '<span style=color:#999>' + html.escape(placeholder) + '</span>'}</div>"
        return ""

    def _block_html(self, block: dict[str, Any], files: Path, message: dict[str, Any]) -> str:
        kind = block.get("type")
        if kind == "section":
            text = self.mrkdwn_html(block["text"]["text"]) if block.get("text") else ""
            fields = "".join(
                f"<div>{self.mrkdwn_html(f['text'])}</div>" for f in block.get("fields", [])
            )
            return f"<div class='section'>{text}{f'<div class=fields>{fields}</div>' if fields else ''}</div>"
        if kind == "context":
            return (
                "<div class='context'>"
                + " ".join(self.mrkdwn_html(e.get("text", "")) for e in block["elements"])
                + "</div>"
            )
        if kind == "image":
            file_id = (block.get("slack_file") or {}).get("id")
            title = (block.get("title") or {}).get("text", block.get("alt_text", ""))
            return (
                self._file_html(file_id, title, files)
                if file_id
                else f"<img src='{html.escape(block.get('image_url', ''))}'>"
            )
        if kind == "actions":
            return (
                "<div class='actions'>"
                + "".join(
                    self._element_html(e, block.get("block_id", ""), message)
                    for e in block["elements"]
                )
                + "</div>"
            )
        if kind == "input":
            label = html.escape(block["label"]["text"])
            return f"<div class='input'><label>{label}</label>{self._element_html(block['element'], block.get('block_id', ''), message)}</div>"
        if kind == "divider":
            return "<hr>"
        return ""

    # ---- text (the shell) -----------------------------------------------------------------

    def message_text(self, message: dict[str, Any], controls: list[tuple[str, str, str]]) -> str:
        """A message as plain text; each control is appended to `controls` and shown as [n]."""
        who = (
            "Atelier"
            if message.get("bot_id") or "user" not in message or message.get("ephemeral")
            else self.name(message.get("user"))
        )
        lines = [f"{who}:"]
        for block in message.get("blocks") or []:
            lines += self._block_text(block, message.get("ts", ""), controls)
        if not message.get("blocks") and message.get("text"):
            lines.append("  " + self.mrkdwn_text(message["text"]).replace("\n", "\n  "))
        for file in message.get("files") or []:
            lines.append(f"  [file: {file.get('title') or file.get('name')}]")
        return "\n".join(lines)

    def _block_text(
        self, block: dict[str, Any], ts: str, controls: list[tuple[str, str, str]]
    ) -> list[str]:
        kind = block.get("type")
        if kind == "section":
            lines = []
            if block.get("text"):
                lines.append("  " + self.mrkdwn_text(block["text"]["text"]).replace("\n", "\n  "))
            for field in block.get("fields", []):
                lines.append("  · " + self.mrkdwn_text(field["text"]).replace("\n", ": "))
            return lines
        if kind == "context":
            said = " ".join(self.mrkdwn_text(e.get("text", "")) for e in block["elements"])
            return [f"  ({said})"]
        if kind == "image":
            return [
                f"  [image: {(block.get('title') or {}).get('text', block.get('alt_text', ''))}]"
            ]
        if kind in ("actions", "input"):
            elements = block.get("elements", []) + (
                [block["element"]] if "element" in block else []
            )
            return [self._control_text(element, ts, controls) for element in elements]
        return []

    @staticmethod
    def _control_text(
        element: dict[str, Any], ts: str, controls: list[tuple[str, str, str]]
    ) -> str:
        controls.append((ts, element.get("action_id", ""), element.get("type", "")))
        label = (
            element.get("text", {}).get("text")
            or (element.get("placeholder") or {}).get("text")
            or element.get("action_id")
        )
        if element.get("type") == "checkboxes":
            label = "tick: " + ", ".join(o["text"]["text"] for o in element["options"])
        return f"  [{len(controls)}] {label}"
