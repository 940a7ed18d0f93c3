"""Realistic Chinese posts for a drill scenario, deterministic for a seed.

Each phase gives a post rate and templates with key facts; the generator draws the
posts' times, then for each decides what it is (background chatter, an original post,
a light-edited duplicate, a ``//@`` repost of an earlier post), gives it a tone drawn
from the phase's sentiment and emotion mix (opening and closing phrases and emoji codes
from :mod:`yuqing.drill.lexicon`), varies the wording (synonyms, particles, typos,
noise, hashtags, @mentions, links) and converts a share to Traditional script with
OpenCC. Rumour injections, repost cascades from influential accounts and the official
statement are laid on top; after the statement the sentiment mix and the post rate
change by its quality, and a share of posts react to it.

The output is a list of DESIGN.md input records sorted by (published_at, id). The same
scenario and seed give the same records: one ``random.Random`` seeded from the
scenario name and the seed drives every choice.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yuqing.drill import lexicon
from yuqing.drill.scenario import Campaign, Cascade, Phase, Rumour, Scenario

__all__ = ["Post", "generate", "generate_posts"]

# Shares of small variations applied to an original post.
P_SYNONYM = 0.35
P_PARTICLE = 0.25
P_TYPO = 0.08
P_NOISE = 0.15
P_HASHTAG = 0.3
P_MENTION = 0.08
P_URL = 0.06
P_REGION_FIELD = 0.5  # incident posts whose record names the scenario's region
RUMOUR_KEEP_AFTER_GOOD = 0.4  # rumour posts kept after a good statement
P_NEW_ACCOUNT = 0.03  # ordinary accounts younger than 30 days (when profiles are on)
_CAMPAIGN_EMOTION = {"negative": "anger", "neutral": "neutral", "positive": "joy"}
_TAIL = re.compile(r"(?:\[[^\[\]]{1,8}\]|[。！？!?，,.…～~\s])+$")  # emoji codes, end marks


@dataclass(slots=True)
class _Author:
    name: str
    followers: int
    verified: bool
    age_days: float | None = None  # campaign accounts: fixed profile (see _profile)
    posts: int | None = None


@dataclass(slots=True)
class Post:
    """One generated post: its input record fields and what the generator meant it to be
    (``kind``: chatter, original, duplicate, repost, rumour, cascade, statement,
    reaction, campaign; ``sentiment`` the tone it was given). ``kind`` and
    ``sentiment`` are the drill's ground truth; they are not part of the record.
    ``extra`` holds unknown record fields (account profiles when the campaign asks)."""

    serial: int
    at: datetime
    text: str
    author: _Author
    source: str
    kind: str
    sentiment: str
    region: str | None = None
    parent: Post | None = None
    depth: int = 0
    engagement: tuple[int, int, int] = (0, 0, 0)
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self, prefix: str) -> dict[str, Any]:
        """The DESIGN.md input record."""
        out: dict[str, Any] = {
            "id": f"{prefix}-{self.serial:06d}",
            "text": self.text,
            "source": self.source,
            "author": self.author.name,
            "author_followers": self.author.followers,
            "author_verified": self.author.verified,
            "published_at": self.at.isoformat(),
            "reposts": self.engagement[0],
            "comments": self.engagement[1],
            "likes": self.engagement[2],
        }
        if self.region:
            out["region"] = self.region
        if self.parent is not None:
            out["parent_id"] = f"{prefix}-{self.parent.serial:06d}"
        out.update(self.extra)
        return out


@functools.cache
def _s2t() -> Callable[[str], str]:
    import opencc

    convert: Callable[[str], str] = opencc.OpenCC("s2t").convert
    return convert


def _local(region: str) -> str:
    """How people write a place: without the province (浙江省宁波市鄞州区 -> 宁波市鄞州区)."""
    for mark in ("自治区", "省"):
        head, sep, tail = region.partition(mark)
        if sep and tail and len(head) <= 8:
            return tail
    return region


class _Writer:
    """Holds the random stream and the scenario while posts are written."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.sc = scenario
        self.rng = random.Random(f"{scenario.name}:{seed}")
        self.posts: list[Post] = []
        self.pool: list[Post] = []  # incident posts others may repost or copy
        # Campaign posts are left out, so that the ordinary posts are the same with and
        # without a campaign (it is generated last, from the same random stream).
        organic = scenario.expected_posts() - (scenario.campaign.size if scenario.campaign else 0)
        n_users = max(200, organic // 2)
        self.users = [self._user(i) for i in range(n_users)]
        self.sources = list(scenario.sources)
        self.source_weights = [scenario.sources[s] for s in self.sources]

    # -- people and places
    def _user(self, i: int) -> _Author:
        rng = self.rng
        name = (
            rng.choice(lexicon.NICK_PREFIX)
            + rng.choice(lexicon.NICK_CORE)
            + rng.choice(lexicon.NICK_SUFFIX)
            + str(rng.randrange(10, 10000))
        )
        followers = min(int(rng.paretovariate(1.1) * 40), 400_000)
        return _Author(f"{name}{i % 10}", followers, rng.random() < 0.02)

    def account(self, name: str) -> _Author:
        acc = self.sc.account(name)
        assert acc is not None  # validated by the scenario reader
        return _Author(acc.name, acc.followers, acc.verified)

    def someone(self) -> _Author:
        if self.sc.accounts and self.rng.random() < 0.03:
            return self.account(self.rng.choice(self.sc.accounts).name)
        return self.rng.choice(self.users)

    def source(self) -> str:
        return self.rng.choices(self.sources, weights=self.source_weights)[0]

    def engagement(self, author: _Author) -> tuple[int, int, int]:
        rng = self.rng
        reach = author.followers / 2000.0
        reposts = int(rng.paretovariate(1.6) - 1 + reach * rng.random())
        comments = int(rng.paretovariate(1.6) - 1 + reach * 0.6 * rng.random())
        likes = int(rng.paretovariate(1.3) * 2 - 2 + reach * 3 * rng.random())
        return reposts, comments, likes

    def add(self, post: Post, *, pool: bool = True) -> Post:
        post.engagement = self.engagement(post.author)
        self.posts.append(post)
        if pool:
            self.pool.append(post)
        return post

    def new(self, at: datetime, text: str, author: _Author, kind: str, sentiment: str) -> Post:
        region = self.sc.region if self.rng.random() < P_REGION_FIELD else None
        source = "weibo" if author.verified else self.source()
        return Post(len(self.posts), at, text, author, source, kind, sentiment, region)

    # -- text
    def fill(self, template: str, facts: dict[str, tuple[str, ...]]) -> str:
        values = {name: self.rng.choice(options) for name, options in facts.items()}
        values["region"] = _local(self.sc.region)
        return template.format(**values)

    def tone(self, phase: Phase, after: bool) -> tuple[str, str]:
        """(sentiment, emotion) drawn from the phase mix, shifted after the statement."""
        mix = dict(phase.sentiment or {"negative": 0.5, "neutral": 0.4, "positive": 0.1})
        st = self.sc.statement
        if after and st is not None and "negative" in mix:
            mix["negative"] *= st.negative_factor
        names = list(mix)
        sentiment = self.rng.choices(names, weights=[mix[n] for n in names])[0]
        emotions = phase.emotions
        allowed: tuple[str, ...]
        if sentiment == "negative":
            allowed = lexicon.NEGATIVE_EMOTIONS
        elif sentiment == "positive":
            allowed = ("joy",)
        else:
            allowed = ("neutral", "surprise")
        weights = [emotions.get(e, 0.0) for e in allowed]
        if sum(weights) <= 0:
            weights = [1.0] * len(allowed)
        return sentiment, self.rng.choices(allowed, weights=weights)[0]

    def voice(self, body: str, emotion: str) -> str:
        rng = self.rng
        opener = rng.choice(lexicon.OPENERS[emotion]) if rng.random() < 0.6 else ""
        closer = rng.choice(lexicon.CLOSERS[emotion]) if rng.random() < 0.7 else ""
        emoji = rng.choice(lexicon.EMOJI[emotion]) if rng.random() < 0.6 else ""
        if emoji and rng.random() < 0.25:
            emoji *= 2
        sep = "" if not closer or body.endswith(("。", "！", "？", "!", "?", "，")) else "，"
        return f"{opener}{body}{sep}{closer}{emoji}"

    def vary(self, text: str, phase: Phase | None) -> str:
        rng = self.rng
        if rng.random() < P_SYNONYM:
            groups = [g for g in lexicon.SYNONYMS if any(w in text for w in g)]
            if groups:
                group = rng.choice(groups)
                word = next(w for w in group if w in text)
                text = text.replace(word, rng.choice(group), 1)
        if rng.random() < P_PARTICLE:
            cut = len(_TAIL.sub("", text))
            text = text[:cut] + rng.choice(lexicon.PARTICLES) + text[cut:]
        if rng.random() < P_TYPO:
            pairs = [p for p in lexicon.TYPOS if p[0] in text]
            if pairs:
                right, slip = rng.choice(pairs)
                text = text.replace(right, slip, 1)
        if rng.random() < P_NOISE:
            text += rng.choice(lexicon.NOISE)
        if phase is not None and phase.hashtags and rng.random() < P_HASHTAG:
            tag = f"#{self.fill(rng.choice(phase.hashtags), phase.facts)}#"
            text = tag + text if rng.random() < 0.6 else f"{text} {tag}"
        if self.sc.accounts and rng.random() < P_MENTION:
            text += f" @{rng.choice(self.sc.accounts).name}"
        if rng.random() < P_URL:
            code = "".join(
                rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", k=7)
            )
            text += f" http://{rng.choice(lexicon.URL_HOSTS)}/{code}"
        return text

    def edit(self, text: str) -> str:
        """A light human edit: 1-3 characters inserted, deleted or changed."""
        chars = list(text)
        for _ in range(self.rng.randint(1, 3)):
            i = self.rng.randrange(len(chars))
            op = self.rng.random()
            if op < 0.34 and len(chars) > 8:
                del chars[i]
            elif op < 0.67:
                chars.insert(i, self.rng.choice("啊呀哦！的了"))
            else:
                chars[i] = self.rng.choice("啊呀哦！的了")
        return "".join(chars)

    def traditional(self, text: str, share: float) -> str:
        return _s2t()(text) if share and self.rng.random() < share else text

    # -- posts
    def chatter(self, at: datetime) -> None:
        rng = self.rng
        text = rng.choice(lexicon.CHATTER).format(
            city=rng.choice(lexicon.CITIES),
            food=rng.choice(lexicon.FOODS),
            place=rng.choice(lexicon.PLACES),
        )
        text = self.vary(text, None)
        author = rng.choice(self.users)
        post = Post(len(self.posts), at, text, author, self.source(), "chatter", "neutral")
        if rng.random() < 0.3:
            post.region = rng.choice(lexicon.CITIES) + "市"
        self.add(post, pool=False)

    def repost(self, at: datetime, parent: Post, sentiment: str, kind: str = "repost") -> Post:
        comment = self.rng.choice(lexicon.REPOST_COMMENTS[sentiment])
        text = f"{comment}//@{parent.author.name}: {parent.text}"
        post = self.new(at, text, self.rng.choice(self.users), kind, sentiment)
        post.parent, post.depth = parent, parent.depth + 1
        return self.add(post)

    def incident(self, at: datetime, phase: Phase, after: bool) -> None:
        rng = self.rng
        st = self.sc.statement
        roll = rng.random()
        sentiment, emotion = self.tone(phase, after)
        if self.pool and roll < phase.reposts:
            recent = self.pool[-200:]
            weights = [1.0 + p.author.followers / 5000 for p in recent]
            parent = rng.choices(recent, weights=weights)[0]
            self.repost(at, parent, sentiment)
            return
        if self.pool and roll < phase.reposts + phase.duplicates:
            original = rng.choice(self.pool[-200:])
            own = original.text.split("//@", 1)[0] or original.text
            text = own if rng.random() < 0.5 else self.edit(own)
            self.add(self.new(at, text, rng.choice(self.users), "duplicate", original.sentiment))
            return
        if after and st is not None and rng.random() < st.reaction_share:
            sentiment = "positive" if st.quality == "good" else "negative"
            text = self.vary(self.fill(rng.choice(st.reactions), phase.facts), phase)
            text = self.traditional(text, phase.traditional)
            self.add(self.new(at, text, self.someone(), "reaction", sentiment))
            return
        body = self.fill(rng.choice(phase.templates), phase.facts)
        text = self.traditional(self.vary(self.voice(body, emotion), phase), phase.traditional)
        self.add(self.new(at, text, self.someone(), "original", sentiment))

    def phases(self) -> None:
        sc, rng = self.sc, self.rng
        st_at = sc.start + sc.statement.at if sc.statement else None
        t = sc.start
        for phase in sc.phases:
            end = t + phase.duration
            cuts = [t, end] if st_at is None or not t < st_at < end else [t, st_at, end]
            for a, b in itertools.pairwise(cuts):
                after = st_at is not None and a >= st_at
                rate = phase.posts_per_hour * (
                    sc.statement.volume_factor if after and sc.statement else 1
                )
                expected = rate * (b - a).total_seconds() / 3600
                n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
                span = (b - a).total_seconds()
                for offset in sorted(rng.uniform(0, span) for _ in range(n)):
                    at = a + timedelta(seconds=offset)
                    if rng.random() < sc.chatter:
                        self.chatter(at)
                    else:
                        self.incident(at, phase, after)
            t = end

    def phase_at(self, at: datetime) -> Phase:
        t = self.sc.start
        for phase in self.sc.phases:
            t += phase.duration
            if at < t:
                return phase
        return self.sc.phases[-1]

    def rumour(self, rumour: Rumour) -> None:
        sc, rng = self.sc, self.rng
        st = sc.statement
        begin = sc.start + rumour.at
        origin: Post | None = None
        for i in range(rumour.spread):
            delay = 0.0 if i == 0 else min(rng.expovariate(3.0), 1.0) * rumour.over.total_seconds()
            at = min(begin + timedelta(seconds=delay), sc.end - timedelta(seconds=1))
            dying = st is not None and st.quality == "good" and at > sc.start + st.at and i
            if dying and rng.random() > RUMOUR_KEEP_AFTER_GOOD:
                continue
            phase = self.phase_at(at)
            if origin is not None and rng.random() < 0.5:
                self.repost(at, origin, "negative", "rumour")
                continue
            _, emotion = self.tone(phase, False)
            body = self.fill(rng.choice(rumour.templates), phase.facts)
            text = self.traditional(
                self.vary(self.voice(body, emotion if i else "neutral"), phase), phase.traditional
            )
            post = self.add(self.new(at, text, rng.choice(self.users), "rumour", "negative"))
            origin = origin or post

    def cascade(self, cascade: Cascade) -> None:
        sc, rng = self.sc, self.rng
        at = sc.start + cascade.at
        phase = self.phase_at(at)
        body = self.fill(rng.choice(cascade.templates), phase.facts)
        root = self.add(self.new(at, body, self.account(cascade.account), "cascade", "negative"))
        chain = [root]
        span = cascade.over.total_seconds()
        for offset in sorted(span * rng.random() ** 2 for _ in range(cascade.size)):
            when = min(at + timedelta(seconds=1 + offset), sc.end - timedelta(seconds=1))
            open_ = [p for p in chain if p.depth < cascade.depth]
            parent = root if rng.random() < 0.5 else rng.choice(open_)
            sentiment, _ = self.tone(phase, False)
            chain.append(self.repost(when, parent, sentiment, "cascade"))

    def statement(self) -> None:
        st = self.sc.statement
        if st is None:
            return
        at = self.sc.start + st.at
        text = self.fill(st.text, self.phase_at(at).facts)
        sentiment = "neutral" if st.quality == "good" else "negative"
        self.add(self.new(at, text, self.account(st.account), "statement", sentiment))

    def campaign(self, camp: Campaign) -> None:
        """Coordinated accounts posting in synchronised waves, copying each other's text,
        and reposting the campaign's first post in a burst (kind ``campaign``)."""
        sc, rng = self.sc, self.rng
        end = sc.end - timedelta(seconds=1)
        crew: list[tuple[_Author, float]] = []
        for i in range(camp.accounts):
            if rng.random() < 0.5:
                name = f"用户{rng.randrange(10**9, 10**10)}"  # a never-renamed new account
            else:
                name = self._user(i).name + rng.choice("abcdefxyz")
            author = _Author(
                name,
                rng.randint(*camp.followers),
                False,
                # days before the scenario start (negative: created after it)
                age_days=rng.uniform(*camp.age_days) - camp.at.total_seconds() / 86400,
                posts=rng.randint(*camp.posts),
            )
            crew.append((author, rng.uniform(0, camp.jitter.total_seconds())))
        begin = sc.start + camp.at
        step = camp.over / camp.waves
        first: Post | None = None
        for wave in range(camp.waves):
            base = ""
            for author, offset in sorted(crew, key=lambda c: c[1]):
                noise = rng.uniform(-5, 5)
                at = min(begin + wave * step + timedelta(seconds=offset + noise), end)
                at = max(at, sc.start)
                if base and rng.random() < camp.identical:
                    text = base if rng.random() < 0.5 else self.edit(base)
                else:
                    emotion = _CAMPAIGN_EMOTION[camp.sentiment]
                    body = self.fill(rng.choice(camp.templates), camp.facts)
                    text = self.vary(self.voice(body, emotion), None)
                    base = base or text
                post = self.new(at, text, author, "campaign", camp.sentiment)
                post.source = "weibo"
                self.add(post, pool=False)
                first = first or post
        if first is None or not camp.reposts:
            return
        start = begin + camp.over / 2
        for i in range(camp.reposts):
            author = crew[i % len(crew)][0]
            at = min(
                start + timedelta(seconds=rng.uniform(0, camp.repost_over.total_seconds())), end
            )
            comment = rng.choice(lexicon.REPOST_COMMENTS[camp.sentiment])
            text = f"{comment}//@{first.author.name}: {first.text}"
            post = self.new(at, text, author, "campaign", camp.sentiment)
            post.source, post.parent, post.depth = "weibo", first, 1
            self.add(post, pool=False)

    def profiles(self, seed: int) -> None:
        """``account_created_at`` and ``author_posts`` on every record: campaign accounts
        from their ranges, others from a random stream of their own (per author, so that
        the posts themselves do not change)."""
        seen: dict[str, tuple[str, int]] = {}
        for post in self.posts:
            author = post.author
            if author.name not in seen:
                rng = random.Random(f"{self.sc.name}:{seed}:profile:{author.name}")
                if author.age_days is not None and author.posts is not None:
                    age, count = author.age_days, author.posts
                elif rng.random() < P_NEW_ACCOUNT:
                    age, count = rng.uniform(1, 30), rng.randint(0, 40)
                else:
                    age = rng.uniform(60, 3650)
                    count = int(rng.lognormvariate(5.5, 1.2)) + author.followers // 200
                created = self.sc.start - timedelta(days=age)
                seen[author.name] = (created.date().isoformat(), count)
            created_at, count = seen[author.name]
            post.extra.update(account_created_at=created_at, author_posts=count)


def generate_posts(scenario: Scenario, seed: int = 7) -> list[Post]:
    """Every post of ``scenario`` for ``seed``, sorted by time (then serial)."""
    writer = _Writer(scenario, seed)
    writer.phases()
    for rumour in scenario.rumours:
        writer.rumour(rumour)
    for cascade in scenario.cascades:
        writer.cascade(cascade)
    writer.statement()
    if scenario.campaign is not None:
        writer.campaign(scenario.campaign)
        if scenario.campaign.profiles:
            writer.profiles(seed)
    return sorted(writer.posts, key=lambda p: (p.at, p.serial))


def generate(scenario: Scenario, seed: int = 7) -> list[dict[str, Any]]:
    """The DESIGN.md input records of ``scenario`` for ``seed``, sorted by time."""
    prefix = f"{scenario.name}-{seed}"
    return [post.record(prefix) for post in generate_posts(scenario, seed)]


def count_kinds(posts: Sequence[Post]) -> dict[str, int]:
    """How many posts of each kind (for reports and tests)."""
    out: dict[str, int] = {}
    for post in posts:
        out[post.kind] = out.get(post.kind, 0) + 1
    return out
