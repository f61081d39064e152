"""Kudos: the CX team thanks someone publicly, and customer praise that names an employee is surfaced.

Praise detection is deliberately conservative and only suggests. A first name in a comment cannot be mapped
to a chat user safely (there is no directory, "Tom" may be three people, and public credit to the wrong
person is worse than none), so nothing is recorded automatically: the CX team sees suggestions
(``/cx kudos`` with no arguments, and weekly: stories.praise_push) and gives kudos themselves, picking the
person beside the "Give kudos" button. Kudos given inside the thread of a story whose comment praises someone,
or with that button, are recorded with source ``customer_praise`` and the story's id: a person made the mapping.

Kudos are trusted when they are rare and wanted: a giver has ``kudos.monthly_limit`` a month, and a person who
opted out (stories.kudos_optout) receives none publicly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from stories.actors import Actor, is_cx_team
from stories.config import CxConfig
from stories.followup import InvalidInput
from stories.outbox import OutboxWriter, Outgoing
from stories.ports import Redactor
from stories.presentation import clean_text, truncate
from stories.redacted_comment import redact_free_text
from stories.views import KudosView, Notice, PraiseSuggestion, PraiseView

log = logging.getLogger(__name__)

MAX_WHY = 500
QUOTE_CHARS = 240
SUGGESTIONS = 10


@dataclass(frozen=True, slots=True)
class NewKudos:
    key: str
    giver: str
    receiver: str
    why: str
    story_id: int | None
    platform: str
    source: str  # cx_team | customer_praise
    created_at: datetime
    receiver_name: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class PraiseSource:
    """A story and the redacted comment it came from."""

    story_id: int
    title: str
    text: str
    sentiment: str


class KudosStore(Protocol):
    def add_kudos(self, new: NewKudos) -> int:
        """Insert unless ``new.key`` exists; the kudos id either way."""
        ...

    def add_kudos_within(self, new: NewKudos, *, limit: int, since: datetime) -> int | None:
        """Insert unless ``new.key`` exists (its id: a retry is never counted against the limit), but only while
        the giver gave fewer than ``limit`` on the platform since ``since``, checked and written atomically (two
        replicas at the same instant cannot both take the last one). None: refused."""
        ...

    def praise_source(self, story_id: int) -> PraiseSource | None: ...

    def praise_candidates(self, *, since: datetime, until: datetime, limit: int) -> list[PraiseSource]:
        """Positive stories of ``(since, until]`` without kudos yet, newest first."""
        ...

    def kudos_received(self, receiver: str, *, platform: str, limit: int = 10) -> list[KudosView]: ...

    def kudos_opted_out(self, user_id: str, *, platform: str) -> bool: ...

    def opted_out_names(self) -> list[str]:
        """The names of everyone who opted out, on any platform (to leave them out of praise suggestions)."""
        ...


def kudos_channel(config: CxConfig, platform: str) -> str | None:
    """The channel kudos are posted to on ``platform``, if configured."""
    return {"slack": config.kudos_slack_channel, "teams": config.kudos_teams_channel}.get(platform)


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s calendar month (UTC): the monthly limit and the leaderboard start there."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def limit_notice(config: CxConfig, now: datetime) -> Notice:
    limit = config.kudos.monthly_limit
    renews = next_month(month_start(now))
    return Notice(
        f"You have given your {limit} kudos for {month_start(now):%B}; thank you! They renew on "
        f"{renews.day} {renews:%B}. Keeping kudos few keeps each one meaningful."
    )


def opted_out_notice(name: str) -> Notice:
    return Notice(
        f"Thank you for noticing! {name} has asked not to receive public kudos, so nothing was posted. "
        "A word in person or a direct message will still mean a lot."
    )


def story_reference(story_id: int | None, title: str | None) -> str:
    """How kudos name the story they came from: "story #42 “Invoice template fixed”"."""
    if story_id is None:
        return ""
    return f"story #{story_id}" + (f" “{truncate(title, 80)}”" if title else "")


def give_kudos(
    *,
    store: KudosStore,
    outbox: OutboxWriter,
    config: CxConfig,
    key: str,
    giver: Actor,
    receiver: str,
    receiver_name: str | None,
    why: str,
    story_id: int | None = None,
    department: str | None = None,
    now: datetime,
    redactor: Redactor,
) -> KudosView | Notice:
    """Record kudos, post them to the platform's kudos channel and DM the receiver. CX team only.

    Refused politely when the receiver opted out or the giver used this month's ``kudos.monthly_limit``. A retry
    (same ``key``) is never counted against the limit, and outbox keys derive from the kudos id, so a retry
    re-queues only what a crash lost.
    """
    if not is_cx_team(config, giver):
        return Notice("Kudos are given by the CX team. Ask them to pass yours on; thank you for noticing!")
    if receiver == giver.user_id:
        return Notice("Kudos are for someone else; mention the person you want to thank.")
    if store.kudos_opted_out(receiver, platform=giver.platform):
        return opted_out_notice(receiver_name or "They")
    why = " ".join(clean_text(why).split())
    if not why:
        raise InvalidInput("why", "say why, e.g. 'kudos @dana for calling the customer back the same day'")
    if len(why) > MAX_WHY:
        raise InvalidInput("why", f"is {len(why)} characters; keep it under {MAX_WHY}")
    why = redact_free_text(why, redactor=redactor)  # staff names stay; a customer's phone number does not
    praise = store.praise_source(story_id) if story_id is not None else None
    from_customer = praise is not None and bool(find_praise(praise.text, sentiment=praise.sentiment))
    kudos_id = store.add_kudos_within(
        NewKudos(
            key=key,
            giver=giver.user_id,
            receiver=receiver,
            why=why,
            story_id=story_id,
            platform=giver.platform,
            source="customer_praise" if from_customer else "cx_team",
            created_at=now,
            receiver_name=receiver_name[:100] if receiver_name else None,
            department=department,
        ),
        limit=config.kudos.monthly_limit,
        since=month_start(now),
    )
    if kudos_id is None:
        log.info("kudos refused: monthly limit reached (%s)", giver.platform)
        return limit_notice(config, now)
    log.info("kudos %s given (%s)", kudos_id, giver.platform)
    name = receiver_name or "a colleague"
    origin = "a customer, passed on by " if from_customer else ""
    reference = story_reference(story_id, praise.title if praise else None)
    why_line = f"{why} (from {reference})" if reference else why
    people = {"giver": giver.user_id, "receiver": receiver}  # renderers may turn these into mentions
    items = [
        Outgoing(
            key=f"kudos:{kudos_id}:dm",
            kind="dm",
            platform=giver.platform,
            channel=receiver,
            story_id=story_id,
            payload={"text": f"Kudos to you from {origin}{giver.display}: {why_line}", **people},
        )
    ]
    channel = kudos_channel(config, giver.platform)
    if channel:
        items.append(
            Outgoing(
                key=f"kudos:{kudos_id}:post",
                kind="text",
                platform=giver.platform,
                channel=channel,
                story_id=story_id,
                payload={"text": f"Kudos to {name} from {origin}{giver.display}: {why_line}", **people},
            )
        )
    outbox.enqueue(items)
    return KudosView(
        giver=giver.user_id,
        receiver=receiver,
        why=why,
        posted_to=channel,
        story_id=story_id,
        story_title=praise.title if praise else None,
    )


def praise_suggestions(
    *, store: KudosStore, since: datetime, until: datetime, limit: int = SUGGESTIONS, days: int = 14
) -> PraiseView:
    """Recent positive comments that name someone, for the CX team to pass on. Names of people who opted out of
    kudos are left out (matched on their full name or any part of it: leaving out a namesake too is the safe
    side)."""
    hidden = {n.casefold() for name in store.opted_out_names() for n in (name, *name.split())}
    found: list[PraiseSuggestion] = []
    for source in store.praise_candidates(since=since, until=until, limit=limit * 20):
        hits = [
            (name, sentence)
            for name, sentence in praise_in(source.text, sentiment=source.sentiment)
            if name.casefold() not in hidden and name.split()[-1].casefold() not in hidden
        ]
        if hits:
            names = tuple(dict.fromkeys(name for name, _ in hits))
            quote = truncate(" ".join(hits[0][1].split()), QUOTE_CHARS)
            found.append(PraiseSuggestion(story_id=source.story_id, story_title=source.title, names=names, quote=quote))
        if len(found) >= limit:
            break
    return PraiseView(items=tuple(found), days=days)


# --- praise detection ---------------------------------------------------------------------------------------

_PRAISE_WORDS = (
    "helpful|wonderful|amazing|fantastic|great|brilliant|excellent|lovely|kind|friendly|patient|professional|"
    "polite|courteous|superb|outstanding|awesome|fabulous|terrific|knowledgeable|attentive|efficient|nice|"
    "sweet|caring|understanding|accommodating|incredible|exceptional|marvell?ous|super|perfect|delightful|"
    "pleasant|informative|responsive|supportive|reassuring|star|legend|gem|hero|angel|asset|credit|"
    "the best|a pleasure|a joy|fab|ace|top notch|first class|spot on"
)
_INTENSIFIERS = (
    r"(?:(?:so|very|really|extremely|incredibly|super|absolutely|just|truly|genuinely|such|an?|the|most|"
    r"absolute|real|total|utterly|beyond|amazingly|exceptionally|particularly|always|also)\s+){0,3}"
)
_PRAISE_VERBS = (
    "went above and beyond|went the extra mile|went out of (?:his|her|their) way|helped|sorted|fixed|resolved|"
    "looked after|took care of|saved|made my day|made our day|deserves|rocks|rescued|solved"
)
_THANKS = (
    r"(?:big |huge |special |many |massive )?(?:thanks|thank you|thank-you|thankyou|shout[- ]?out|kudos|props|"
    r"credit|hats off|grateful|gratitude)(?:\s+(?:so much|very much|again))?\s*,?\s+(?:to\s+)?"
)
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+)"
_WORD = r"(?=[A-ZÀ-ÖØ-Þ\u0100-\u024f])[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*\b"  # capitalised (checked again)
_NAME = rf"(?:{_TITLE}?{_WORD}(?:\s+{_WORD})?)"
_PLACE_AFTER = (
    r"(?!\s+(?i:store|shop|branch|depot|team|office|staff|warehouse|site|centre|center|outlet|mall|airport|"
    r"station|hotel|restaurant|customer|service|support|delivery|app|website|account|card|bank)\b)"
)
_WHERE = r"(?:\s*,?\s+(?i:at|from|in|on|of)\s+(?:(?i:the|our|your|my)\s+)?[\w'&-]+(?:\s+[\w'&-]+){0,3}?\s*,?)?"
_BE = r"\s+(?i:was|is|has been|have been|were|are|'s been|’s been)\s+"
_NAMES = rf"(?P<names>{_NAME}(?:(?:\s*,\s*|\s+(?:and|&)\s+){_NAME})*)"

_PATTERNS = [
    # "thanks to Tom for ...", "thank you Sarah and Ali", "shout out to Maria"
    re.compile(rf"(?i:\b{_THANKS})(?-i:{_NAMES}){_PLACE_AFTER}"),
    # "Maria at the Leeds depot was wonderful", "Priya was so helpful", "Tom is a star"
    re.compile(rf"(?-i:{_NAMES}){_PLACE_AFTER}{_WHERE}{_BE}(?i:{_INTENSIFIERS}(?:{_PRAISE_WORDS}))\b"),
    # "Tom went above and beyond", "Ali really helped"
    re.compile(
        rf"(?-i:{_NAMES}){_PLACE_AFTER}{_WHERE}\s+(?i:(?:really|truly|personally|kindly|quickly|even|also|then|"
        rf"just|so)\s+)?(?i:{_PRAISE_VERBS})\b"
    ),
    # "I was helped by Jake", "looked after by Mrs Khan"
    re.compile(
        rf"(?i:\b(?:helped|served|assisted|looked after|sorted out|dealt with|attended to)\s+by\s+)(?-i:{_NAMES})"
    ),
]
# "a lovely lady called Sue", "great service from Dave": only with a praise word in the same sentence
_CALLED = re.compile(rf"(?i:\b(?:called|named|(?:service|help|support|advice)\s+from)\s+)(?-i:{_NAMES})")
_PRAISE_WORD = re.compile(rf"(?i:\b(?:{_PRAISE_WORDS})\b)")
_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_SPLIT_NAMES = re.compile(r"\s*,\s*|\s+(?:and|&)\s+")
_DETERMINERS = frozenset("the a an our your my their his her this that these those its".split())

# Capitalised words that are not people: sentence starters, pronouns, days, months, things customers praise,
# brands and carriers. A name must also not look like a common noun by its ending (see _looks_like_a_noun).
STOP_WORDS = frozenset(
    """
    i i'm i've i'd it it's its this that these those they them their he she him her we us our you your my me
    everyone everybody everything someone somebody something anyone anybody anything nobody nothing all
    the a an and but so then also just very really yes no ok okay thanks thank hi hello dear hey great good
    monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday weekend
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec christmas easter xmas
    delivery shipping service staff team store shop branch depot driver courier support agent manager
    customer customers client product products quality price prices website site app checkout order orders
    packaging parcel package box item items experience installation installer engineer technician
    everything team member colleague lady gentleman guy girl man woman person people folks crew
    call phone chat email mail phone line helpline hotline refund return returns exchange payment invoice
    english french german spanish british american covid
    amazon apple google microsoft paypal ebay visa mastercard amex klarna uber ups dhl fedex usps hermes evri
    dpd gls parcelforce royal mail tesco asda ikea nike adidas samsung sony netflix facebook instagram
    whatsapp twitter tiktok youtube iphone android windows
    """.split()
)
_NOUN_ENDINGS = (
    "ing",
    "tion",
    "sion",
    "ness",
    "ment",
    "ity",
    "ship",
    "able",
    "ible",
    "ful",
    "less",
    "ous",
    "ware",
    "ture",
    "ism",
)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx"})


def find_praise(text: str, *, sentiment: str | None) -> list[str]:
    """Names of people praised in a positive comment, in order of appearance, without repeats.

    >>> find_praise("Maria at the Leeds depot was wonderful.", sentiment="positive")
    ['Maria']
    """
    return list(dict.fromkeys(name for name, _ in praise_in(text, sentiment=sentiment)))


def praise_in(text: str, *, sentiment: str | None) -> list[tuple[str, str]]:
    """``(name, sentence)`` for each praised name; nothing unless the comment as a whole is positive."""
    if sentiment != "positive":
        return []
    found: list[tuple[str, str]] = []
    for sentence_match in _SENTENCES.finditer(clean_text(text)):
        sentence = sentence_match.group().strip()
        matches = [m for pattern in _PATTERNS for m in pattern.finditer(sentence)]
        if _PRAISE_WORD.search(sentence):
            matches += list(_CALLED.finditer(sentence))
        for match in sorted(matches, key=lambda m: m.start("names")):
            if _after_determiner(sentence, match.start("names")):
                continue
            for candidate in _SPLIT_NAMES.split(match["names"]):
                name = _name_in(candidate)
                if name is not None:
                    found.append((name, sentence))
    return found


def _after_determiner(sentence: str, start: int) -> bool:
    """ "the Leeds depot was lovely": a capitalised word after "the" names a place or a thing, not a person."""
    before = sentence[:start].split()
    return bool(before) and before[-1].casefold() in _DETERMINERS


def _name_in(candidate: str) -> str | None:
    """The person's name in a capitalised run: "On Monday Tom" -> "Tom", "Mr Patel" stays, "Customer Service"
    is nobody."""
    words = candidate.split()
    while words and not _is_name_word(words[0]) and words[0].rstrip(".").casefold() not in _TITLES:
        words = words[1:]
    if words and words[0].rstrip(".").casefold() in _TITLES:
        return " ".join(words) if len(words) > 1 and all(_is_name_word(w) for w in words[1:]) else None
    return " ".join(words) if words and all(_is_name_word(w) for w in words) else None


def _is_name_word(word: str) -> bool:
    if len(word) < 2 or not word[0].isupper() or word.isupper():
        return False  # "i", lowercase words, acronyms (UPS, DHL)
    folded = word.casefold().replace("’", "'")
    return folded not in STOP_WORDS and not folded.endswith(_NOUN_ENDINGS)
