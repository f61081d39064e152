"""Issue 12, point 3: redaction time grows linearly with the text, whatever the text.

Each property draws an adversarial piece (runs of '@', dots, digits, separators, "at"/"dot" words, "my name is",
sign-offs, card and IBAN starts ...), repeats it to 1,000 and to 10,000 characters and redacts ten of the small
and one of the large. Linear work takes about as long for both; the bound allows 3x (plus a floor of 10 ms),
while quadratic work takes about 10x: the e-mail pattern this replaced took 0.16 s at 10,000 characters of "a"
followed by "@", against 0.002 s at 1,000.
Each timing is this thread's CPU time (``time.thread_time``: other processes on a shared machine do not count),
the fastest of three, with the garbage collector paused; a failed comparison is measured again (up to three
times), while quadratic work fails each. The phone library, the costly step, is held to a call budget instead
(deterministic); the absolute times are bench/steps.py's and bench/redaction.py's.
"""

from __future__ import annotations

import gc
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stories.redaction import PiiRedactor, phone

REDACTOR = PiiRedactor(digit_runs=8)
LIBRARY_STRETCHES = 100  # stories/redaction/phone.py asks the library about at most this many stretches a pass
SMALL, LARGE = 1_000, 10_000
FLOOR = 0.01  # seconds: below this, the small texts' time is noise
RATIO = 3  # linear work: about 1x; quadratic: about 10x (SMALL to LARGE)
_TIME = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _fastest(texts: list[str]) -> float:
    """This thread's CPU seconds to redact ``texts`` one after another, the fastest of three runs."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(3):
            started = time.thread_time()
            for text in texts:
                REDACTOR.redact(text)
            best = min(best, time.thread_time() - started)
    finally:
        gc.enable()
    return best


def _assert_scales(small: str, large: str, label: str) -> None:
    """The large text against as many small ones as make the same length, so both are runs of the same length
    on the CPU (a loaded machine preempts and slows a long run more than a short one): linear work takes about
    as long, quadratic about ``len(large) / len(small)`` times as long. Up to three measurements."""
    batch = [small] * (len(large) // len(small))
    timings = []
    for _ in range(3):
        t_small, t_large = _fastest(batch), _fastest([large])
        if t_large <= RATIO * max(t_small, FLOOR):
            return
        timings.append(f"{t_small * 1000:.1f} ms -> {t_large * 1000:.1f} ms")
    raise AssertionError(
        f"{label}: {len(batch)} x {len(small):,} -> {len(large):,} characters took " + "; ".join(timings)
    )


def _assert_linear(piece: str) -> None:
    small = (piece * (SMALL // len(piece) + 1))[:SMALL]
    large = (piece * (LARGE // len(piece) + 1))[:LARGE]
    _assert_scales(small, large, repr(piece[:40]))


_MARKS = st.sampled_from(["@", ".", "-", " ", "+", "(", ")", ":", "/", "_", "\n", ",", "[", "]"])
_DIGITS = st.sampled_from(list("0123456789"))
_LETTERS = st.sampled_from(list("aZé"))
_WORDS = st.sampled_from(
    [
        " at ",
        " dot ",
        "[at]",
        "(dot)",
        "my name is ",
        "My Name Is ",
        "this is ",
        "I'm ",
        "Thanks,\n",
        "Regards, ",
        "born on ",
        "DOB ",
        "Jane ",
        "4111 ",
        "GB82",
        "SSN ",
        "::",
        "a@b.cc",
        "0044 ",
        "x.",
    ]
)


@given(piece=st.lists(st.one_of(_MARKS, _LETTERS), min_size=1, max_size=6).map("".join))
@_TIME
def test_marks_and_letters_scale_linearly(piece: str) -> None:
    _assert_linear(piece)


@given(piece=st.lists(st.one_of(_MARKS, _DIGITS), min_size=1, max_size=8).map("".join))
@_TIME
def test_digits_and_separators_scale_linearly(piece: str) -> None:
    _assert_linear(piece)


@given(piece=st.lists(st.one_of(_WORDS, _MARKS, _DIGITS, _LETTERS), min_size=1, max_size=6).map("".join))
@_TIME
def test_words_that_start_a_match_scale_linearly(piece: str) -> None:
    _assert_linear(piece)


_RUNS = ["a", "é", "1", ".", " ", "-", "_", "at ", "my name is ", "Jane ", "4111 ", "GB82", "::"]
_TAILS = ["@", "a@b.cc", " at b dot com", "[at]b[dot]com", "-1234", ".1", ":1", "\nThanks,\nJane", " born 1/1/1985"]


@pytest.mark.parametrize("tail", _TAILS)
@pytest.mark.parametrize("run", _RUNS)
def test_one_long_run_then_a_mark_scales_linearly(run: str, tail: str) -> None:
    """A single long run (of letters, digits, dots, words...) ended by something that starts a match: the shape
    that makes a pattern beginning with an unbounded run re-read the run from each of its characters."""
    small = (run * SMALL)[: SMALL - len(tail)] + tail
    large = (run * LARGE)[: LARGE - len(tail)] + tail
    _assert_scales(small, large, f"{run!r} + {tail!r}")


def test_long_word_before_an_at_sign_is_linear() -> None:
    """The case that froze the server: one long run of word characters and an '@'."""
    _assert_linear("a" * 999 + "@")
    large = "a" * 99_999 + "@"
    started = time.thread_time()
    REDACTOR.redact(large)
    assert time.thread_time() - started < 1.0  # CPU seconds; the quadratic pattern took over 10 s here


@pytest.mark.parametrize("size", [SMALL, LARGE, 10 * LARGE])
def test_the_phone_library_is_asked_a_bounded_number_of_times_whatever_the_size(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text made only of phone-shaped stretches (the library's worst case: each stretch costs ~0.1 ms of pure
    Python): past the per-pass budget the library is not asked, so its share of the time stops growing."""
    asked = [0]
    real = phone.phonenumbers.PhoneNumberMatcher

    def counted(*args: object, **kwargs: object) -> object:
        asked[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(phone.phonenumbers, "PhoneNumberMatcher", counted)
    text = ("call 0207 946 0018 or " * (size // 22 + 1))[:size]
    REDACTOR.redact(text)
    assert 0 < asked[0] <= LIBRARY_STRETCHES * len(REDACTOR.regions)
