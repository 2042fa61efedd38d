"""What people call models, and which of those names Rolecall can serve.

Role files name models three ways: Claude Code's aliases and API ids (`sonnet`,
`claude-haiku-4-5`), `provider,model` specs, and Copilot's picker names ("Claude Sonnet
4.6 (copilot)", "GPT-4.1", "Gemini 2.5 Pro"). A picker name becomes an API id only when
that id is in Rolecall's model table (`KNOWN_CLAUDE_IDS`: the models `agents.pricing`
prices): an id guessed from a name may not exist, and a run would fail on it after the
job had already started. Other vendors' models are recognised so that a role asking for
one can be told whose model it is and what it would take to run it.

Pure names, like `agents.model_ref`: nothing here imports the SDK.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from agents.pricing import PRICES

# Rolecall's model table: the Claude models it knows (and can price), newest first.
KNOWN_CLAUDE_IDS: tuple[str, ...] = tuple(PRICES)
CLAUDE_CODE_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})
# Copilot's "Auto" lets the editor choose; here the deployment's default model does.
_PICKER_AUTO = "auto"
_FAMILIES = frozenset({"opus", "sonnet", "haiku"})
# What Copilot's picker appends to a name: " (copilot)", " (Preview)".
_PICKER_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_API_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_WORDS = re.compile(r"[a-z]+|\d+")
_SNAPSHOT_DATE_DIGITS = 8
# Other vendors' models as Copilot lists them, and whose they are.
_VENDORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?:gpt|chatgpt|codex)|^o\d"), "OpenAI"),
    (re.compile(r"^gemini"), "Google"),
    (re.compile(r"^grok"), "xAI"),
    (re.compile(r"^(?:mistral|codestral|devstral)"), "Mistral"),
    (re.compile(r"^deepseek"), "DeepSeek"),
    (re.compile(r"^(?:qwen|qwq)"), "Alibaba"),
    (re.compile(r"^llama"), "Meta"),
)


@dataclass(frozen=True)
class ModelName:
    """What one written model name means here.

    `spec` is set when Rolecall can serve the name (what `agents.model_ref.resolve_model`
    then reads); otherwise `closest` is set for a Claude name missing from the table,
    and `vendor` for another vendor's model. A name that is none of these (`my-model`)
    has neither: Rolecall cannot tell what it is.
    """

    written: str
    spec: str | None = None
    closest: str | None = None
    vendor: str | None = None


def read_model_name(written: str) -> ModelName:
    """Read one model name as a role file or a config writes it."""
    text = written.strip()
    if "," in text:
        provider, _, model_id = text.partition(",")
        return ModelName(written, spec=f"{provider.strip()},{model_id.strip()}")
    base = without_picker_note(text)
    lowered = base.lower()
    if lowered in CLAUDE_CODE_ALIASES:
        return ModelName(written, spec=lowered)
    if lowered == _PICKER_AUTO:
        return ModelName(written, spec="inherit")
    if lowered.startswith("claude"):
        if is_api_id(base):
            return ModelName(written, spec=base)  # an API id, as Claude Code files write it
        known = claude_id(base)
        if known is not None:
            return ModelName(written, spec=known)
        return ModelName(written, closest=closest_claude_id(base))
    return ModelName(written, vendor=vendor_of(base))


def is_api_id(name: str) -> bool:
    """Whether `name` is spelled like an API model id (`claude-haiku-4-5`), not a picker name."""
    return _API_ID.fullmatch(name) is not None


def without_picker_note(name: str) -> str:
    """'Claude Haiku 4.5 (copilot)' -> 'Claude Haiku 4.5'."""
    base = name.strip()
    while (shorter := _PICKER_NOTE.sub("", base)) and shorter != base:
        base = shorter
    return base


def claude_id(name: str) -> str | None:
    """The id in the model table that a Claude name means, or None.

    'Claude Sonnet 4.6' -> claude-sonnet-4-6, 'Claude Sonnet 4' -> claude-sonnet-4-0,
    'Claude 3.5 Sonnet' -> None (not in the table), 'claude-sonnet-4.5' -> claude-sonnet-4-5.
    """
    parsed = _family_and_version(name)
    if parsed is None:
        return None
    family, version = parsed
    for candidate in _ids_for(family, version):
        if candidate in PRICES:
            return candidate
    return None


def closest_claude_id(name: str) -> str:
    """The id in the model table nearest to a Claude name it does not hold.

    Same family, nearest version (the newer on a tie); without a family, the most
    similar spelling.
    """
    parsed = _family_and_version(name)
    if parsed is not None:
        family, version = parsed
        wanted = _version_value(version)
        same_family = [known for known in KNOWN_CLAUDE_IDS if known.split("-")[1] == family]
        if same_family:
            return min(
                same_family,
                key=lambda known: (
                    abs(_version_value(_id_version(known)) - wanted),
                    -_version_value(_id_version(known)),
                ),
            )
    spelled = re.sub(r"[\s._]+", "-", without_picker_note(name).lower())
    return difflib.get_close_matches(spelled, KNOWN_CLAUDE_IDS, n=1, cutoff=0.0)[0]


def vendor_of(name: str) -> str | None:
    """Whose model `name` is, for the vendors Copilot offers besides Anthropic; else None."""
    lowered = without_picker_note(name).lower()
    return next((vendor for pattern, vendor in _VENDORS if pattern.search(lowered)), None)


def api_spelling(name: str) -> str:
    """A picker name written the way vendors' APIs spell ids: 'GPT-5.4 mini' -> 'gpt-5.4-mini'."""
    return re.sub(r"\s+", "-", without_picker_note(name).lower())


def _family_and_version(name: str) -> tuple[str, tuple[int, ...]] | None:
    """('sonnet', (4, 6)) for 'Claude Sonnet 4.6' or 'Claude 4.6 Sonnet'; None otherwise."""
    words = _WORDS.findall(without_picker_note(name).lower())
    if not words or words[0] != "claude":
        return None
    families = [word for word in words if word in _FAMILIES]
    version = tuple(
        int(word) for word in words if word.isdigit() and len(word) < _SNAPSHOT_DATE_DIGITS
    )
    if len(families) != 1 or not 1 <= len(version) <= 2:
        return None
    return families[0], version


def _ids_for(family: str, version: tuple[int, ...]) -> list[str]:
    """The ids a family and version may be spelled as: 4 is 4-0, and 5.0 is 5."""
    numbers = "-".join(str(part) for part in version)
    ids = [f"claude-{family}-{numbers}"]
    if len(version) == 1:
        ids.append(f"claude-{family}-{version[0]}-0")
    elif version[1] == 0:
        ids.append(f"claude-{family}-{version[0]}")
    return ids


def _id_version(model_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in model_id.split("-") if part.isdigit())


def _version_value(version: tuple[int, ...]) -> float:
    major = version[0] if version else 0
    minor = version[1] if len(version) > 1 else 0
    return major + minor / 10
