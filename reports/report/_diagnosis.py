"""What went wrong, in one sentence: the diagnosis a reader sees first, made from the
evidence a violation carries (its `detail`)."""

from __future__ import annotations

import re

__all__ = ["diagnosis_of"]

_SENTENCE_END = re.compile(r"(?<=[a-z0-9'\")\]][.!?])\s+(?=[A-Z'\"])")
_RULE = re.compile(r"=+")
_WORD = re.compile(r"[a-z]+(?=[ ,:;])")
_DURING_STEP = re.compile(r"during step (?P<number>\d+): (?P<code>.*?)(?:\s+#\s*(?P<call>.*))?")


def diagnosis_of(detail: str) -> str:
    """The first sentence of the first line of `detail` that says something (a sanitizer
    report's `====` rule says nothing), capitalized; a listing it introduces ("...; freed
    at:") is left to the full evidence, and a `held by:` line right after it joins it. A
    crash's `during step N: <code>  # <call>` line right after it joins it as "during
    step N (<call>)", unless the first line already says during which step.

    >>> diagnosis_of("the worker: exited with status 0\\n"
    ...              "during step 2: state.remove(name='a')  # del store['a']\\n")
    "The worker: exited with status 0, during step 2 (del store['a'])."
    """
    lines = [line.strip() for line in detail.splitlines()]
    said = [(n, line) for n, line in enumerate(lines) if line and not _RULE.fullmatch(line)]
    if not said:
        return ""
    number, first = said[0]
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
    if sentence.endswith(":") and "; " in sentence:
        sentence = sentence.rsplit("; ", 1)[0]
    sentence = sentence.rstrip(" :")
    following = lines[number + 1] if number + 1 < len(lines) else ""
    if sentence == first.rstrip(" :") and following.startswith("held by:"):
        held = following.removeprefix("held by:").strip()
        sentence = f"{sentence.rstrip('.')}, held by {held}"
    during = _DURING_STEP.fullmatch(following)
    if during and "during step" not in first:  # a crash: the call it died in
        call = (during["call"] or during["code"]).strip()
        sentence = f"{sentence.rstrip('.')}, during step {during['number']} ({call})"
    if sentence[-1:] not in (".", "!", "?"):
        sentence += "."
    if _WORD.match(sentence):  # "the context ..." -> "The context ...", not "Get_context(...)"
        sentence = sentence[:1].upper() + sentence[1:]
    return sentence
