"""Reads the CX configuration YAML into :class:`stories.config.CxConfig`.

Any problem (YAML syntax, unknown key, wrong type, unknown department, bad regex, timezone or schedule)
becomes a :class:`ConfigError` whose message names the file, the line and column, the key path, what is
wrong and how to fix it, e.g. ``cxbot.yaml:42:17: rules[3].department: unknown department 'Finanse';
use one of [...]``. The YAML is composed into nodes first, so every key keeps the line it came from.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stories.config import ConfigError, CxConfig

EXAMPLE_NAME = "cxbot.example.yaml"
MAX_REPORTED = 5  # problems listed in one error; the rest are counted


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``22:00`` as text rather than a YAML 1.1 base-60 number (1320)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
            |[-+]?0[0-7_]+
            |[-+]?(?:0|[1-9][0-9_]*)
            |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)


def example_path() -> Path:
    """The bundled example configuration (also the configuration reference)."""
    return Path(__file__).resolve().parent / "data" / EXAMPLE_NAME


def load_config(path: Path | None = None) -> CxConfig:
    """Load and validate ``path`` (None: the bundled example); raise :class:`ConfigError` on any problem."""
    path = example_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: CX configuration file not found; set CX_CONFIG to an existing YAML file "
            f"or unset it to use the bundled example ({EXAMPLE_NAME})"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the CX configuration ({exc.strerror}); check CX_CONFIG") from None
    return parse_config(text, name=str(path))


def parse_config(text: str, *, name: str) -> CxConfig:
    """Validate YAML ``text``; ``name`` is the file name used in error messages."""
    root = _compose(text, name=name)
    if root is None:
        raise ConfigError(f"{name}: the file is empty; start from the bundled example {EXAMPLE_NAME}")
    if not isinstance(root, MappingNode):
        raise ConfigError(
            f"{name}:{_line(root)}: the top level must be a mapping (default_department:, departments:, ...), "
            f"not {_kind(root)}"
        )
    _refuse_duplicate_keys(root, name=name, path=())
    _refuse_channels_read_as_comments(root, lines=text.splitlines(), name=name, path=())
    loader = _Loader("")
    try:
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        in_list = "flow" in f"{exc.context} {exc.problem}"  # a [...] list YAML could not close
        raise ConfigError((in_list and _unquoted_in_list(text, name=name)) or _yaml_message(exc, name=name)) from None
    finally:
        loader.dispose()
    try:
        return CxConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, root=root, name=name)) from None


def refuse_bare_slack_channels(config: CxConfig, *, path: Path | None, installed: Sequence[str]) -> None:
    """With several Slack workspaces installed, a channel that names none is ambiguous: raise a
    :class:`ConfigError` naming each (file, line, key) and the prefix to add."""
    from stories.places import slack_place

    bare = [(loc, value) for loc, value in config.slack_channel_paths() if not slack_place(value).prefixed]
    if len(installed) < 2 or not bare:
        return
    path = example_path() if path is None else Path(path)
    root = _compose(path.read_text(encoding="utf-8"), name=str(path))
    problems = []
    for loc, value in bare:
        node, found = _locate(root, loc, point_at_key=False) if root is not None else (None, loc)
        where = f"{path}:{_line(node)}" if node is not None else str(path)
        problems.append(
            f"{where}: {_dotted(found)}: channel {value!r} names no workspace, and {len(installed)} are installed "
            f"({', '.join(installed)}); prefix it with its workspace's team id, e.g. '{installed[0]}/{value.strip()}'"
        )
    raise ConfigError("\n".join(problems))


def _compose(text: str, *, name: str) -> Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        in_list = "flow" in f"{exc.context} {exc.problem}"  # a [...] list YAML could not close
        raise ConfigError((in_list and _unquoted_in_list(text, name=name)) or _yaml_message(exc, name=name)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()


# `[#customer-voice]` or `["#a", #b]`: in a [...] list an unquoted # starts a comment, the list is never closed, and
# YAML's own error points at the end of the file.
_HASH_IN_LIST = re.compile(r"[\[,]\s*(#[^\s,\]]+)")


def _unquoted_in_list(text: str, *, name: str) -> str | None:
    """The line of an unquoted channel name inside a [...] list, with the quoted form; None when there is none."""
    for number, line in enumerate(text.splitlines(), start=1):
        found = _HASH_IN_LIST.search(line)
        if found and "[" in line and line[: found.start(1)].count('"') % 2 == 0 and "'" not in line[: found.start(1)]:
            return (
                f"{name}:{number}:{found.start(1) + 1}: {found[1]} inside [...] is a comment to YAML, which cuts the "
                f'list there; quote it: "{found[1]}"'
            )
    return None


def _yaml_message(exc: yaml.MarkedYAMLError, *, name: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    context = exc.context or ""
    if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        context += f" (begun on line {exc.context_mark.line + 1})"
    what = ": ".join(part for part in (context, exc.problem) if part)
    hint = "check indentation and quoting (quote values containing ': ' or starting with '#', '*', '&', '@')"
    return f"{where}: YAML syntax error: {what}; {hint}"


def _refuse_duplicate_keys(node: Node, *, name: str, path: tuple[str | int, ...]) -> None:
    """PyYAML silently keeps the last of two equal keys; a config file should say so instead."""
    if isinstance(node, MappingNode):
        seen: dict[str, Node] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    raise ConfigError(
                        f"{name}:{_line(key)}: {_dotted((*path, key.value))}: key appears twice "
                        f"(first on line {seen[key.value].start_mark.line + 1}); keep one"
                    )
                seen[key.value] = key
                _refuse_duplicate_keys(value, name=name, path=(*path, key.value))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicate_keys(item, name=name, path=(*path, index))


_NULL = "tag:yaml.org,2002:null"
_CHANNEL_COMMENT = re.compile(r"#[^\s#]\S*")  # "#cx-finance": a channel name, where a real comment reads "# ..."


def _refuse_channels_read_as_comments(node: Node, *, lines: list[str], name: str, path: tuple[str | int, ...]) -> None:
    """``slack_channel: #cx-finance`` is, to YAML, a key without a value followed by a comment: the channel would
    silently be none. Say so, with the quoted line to write instead."""

    def lost(value: Node, line: int, column: int) -> str | None:
        if not (isinstance(value, ScalarNode) and value.tag == _NULL and value.value == ""):
            return None
        rest = lines[line][column:].lstrip(": \t") if line < len(lines) else ""
        found = _CHANNEL_COMMENT.match(rest)
        return found[0] if found else None

    if isinstance(node, MappingNode):
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                continue
            where = (*path, key.value)
            channel = lost(value, key.end_mark.line, key.end_mark.column) if "channel" in key.value else None
            if channel:
                raise ConfigError(
                    f"{name}:{_line(key)}: {_dotted(where)}: has no value, because YAML reads {channel} as a "
                    f'comment; quote it: {key.value}: "{channel}"'
                )
            _refuse_channels_read_as_comments(value, lines=lines, name=name, path=where)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            in_channels = bool(path) and "channel" in str(path[-1])
            channel = lost(item, item.start_mark.line, item.start_mark.column) if in_channels else None
            if channel:
                raise ConfigError(
                    f"{name}:{_line(item)}: {_dotted((*path, index))}: is empty, because YAML reads {channel} as a "
                    f'comment; quote it: - "{channel}"'
                )
            _refuse_channels_read_as_comments(item, lines=lines, name=name, path=(*path, index))


def _validation_message(exc: ValidationError, *, root: MappingNode, name: str) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        loc: tuple[str | int, ...] = tuple(error["loc"])
        ctx = error.get("ctx") or {}
        if error["type"] == "config_problem":
            loc = (*loc, *ctx.get("path", ()))
        node, found = _locate(root, loc, point_at_key=error["type"] == "extra_forbidden")
        problems.append(f"{name}:{_line(node)}: {_dotted(found) or '(top level)'}: {_explain(error, loc)}")
    shown = problems[:MAX_REPORTED]
    if len(problems) > MAX_REPORTED:
        shown.append(f"... and {len(problems) - MAX_REPORTED} more problems")
    return "\n".join(shown)


def _locate(root: Node, loc: Sequence[str | int], *, point_at_key: bool) -> tuple[Node, tuple[str | int, ...]]:
    """The YAML node for a pydantic error location, and the part of the location that exists."""
    node = root
    found: tuple[str | int, ...] = ()
    for part in loc:
        if isinstance(node, MappingNode):
            match = next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == str(part)), None)
            if match is None:
                if part == "[key]":  # pydantic's marker for a bad dict key
                    continue
                break
            node = match[0] if point_at_key and len(found) == len(loc) - 1 else match[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
        found = (*found, part)
    return node, found


def _explain(error: Any, loc: tuple[str | int, ...]) -> str:
    kind = error["type"]
    message = str(error["msg"])
    if kind == "config_problem":
        return str(error["ctx"]["message"])
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key {loc[-1]!r}; {suggestion}remove it or use one of {known}"
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing; add it"
    got = error.get("input")
    shown = repr(got) if isinstance(got, str | int | float | bool) or got is None else type(got).__name__
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{message[0].lower()}{message[1:]}; got {shown}; see {EXAMPLE_NAME} for the expected form"


def _known_keys(loc: Sequence[str | int]) -> list[str]:
    """Field names of the model at ``loc`` (a path of keys and list indexes from CxConfig)."""
    model: Any = CxConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(node: Node) -> str:
    return f"{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _kind(node: Node) -> str:
    return {ScalarNode: "a single value", SequenceNode: "a list"}.get(type(node), "something else")
