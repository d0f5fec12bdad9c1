"""Publish/subscribe for market messages, with a bounded queue per subscriber.

Publishing never blocks and never waits for a reader: a subscriber whose queue is full is marked
overflowed and stops receiving, and its owner (a websocket writer, say) closes it with a reason.
That keeps one slow client from slowing the market or anybody else.

The world hands over each operation's engine records in one go (`deliver`): the bus knows who
listens to what, makes only the facts of the topics somebody subscribed to (`trade`, `depth`,
`order`, `balance`, `user:<name>`), and gives each subscription its share in one batch, followed by
the world's version on `changed`. A subscription gets the same messages, in the same order, as if
every fact had been published on each of its topics one by one: a trade goes on `trade`,
`user:<buyer>` and `user:<seller>`, an order update and a wallet movement on `order`/`balance` and
`user:<owner>`, a depth change on `depth`.
"""

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from emulator.engine import BalanceChange, DepthChange, Event, OrderUpdate, Record, Trade, depth_changes, facts

FACT_TOPICS: dict[str, type] = {"trade": Trade, "depth": DepthChange, "order": OrderUpdate, "balance": BalanceChange}
USER = "user:"  # a user's own topic: every trade, order update and wallet movement of theirs
CHANGED = "changed"  # the world's version, after each operation's facts
OWNED = (Trade, OrderUpdate, BalanceChange)  # the kinds a user topic carries


class Subscription:
    __slots__ = ("_bus", "maxsize", "notify", "overflowed", "queue", "topics")

    def __init__(self, bus: "Bus", topics: Iterable[str], maxsize: int, notify: Callable[[], None] | None) -> None:
        self._bus = bus
        self.topics = set(topics)
        self.queue: deque[Any] = deque()
        self.maxsize = maxsize
        self.overflowed = False
        self.notify = notify

    def offer(self, message: Any) -> None:
        if self.overflowed:
            return
        if len(self.queue) >= self.maxsize:
            self.overflowed = True
        else:
            self.queue.append(message)
        if self.notify is not None:
            self.notify()

    def offer_all(self, messages: list[Any]) -> None:
        """Offer several messages at once: what offering them one by one would queue, one notification."""
        if self.overflowed:
            return
        room = self.maxsize - len(self.queue)
        if len(messages) > room:
            self.queue.extend(messages[: max(room, 0)])
            self.overflowed = True
        else:
            self.queue.extend(messages)
        if self.notify is not None:
            self.notify()

    def drain(self) -> list[Any]:
        items = list(self.queue)
        self.queue.clear()
        return items

    def close(self) -> None:
        self._bus.close(self)


Selector = Callable[[Sequence[Record], list[Trade], list[Event] | None], list[Any]]
# Who receives the same selection of an operation's facts: the selection (the trades and the depth
# changes are written out in `deliver`, keyed by their kind; anything else is a Selector), the
# subscriptions taking just that, and those that also take the version (`changed`) after it.
Group = tuple[type | None, Selector | None, list[Subscription], list[Subscription]]
Plan = tuple[frozenset[type], bool, list[Group]]


def _selector(topics: set[str], kinds: frozenset[type]) -> tuple[Hashable, Selector] | None:
    """What of an operation's facts goes to a subscription of `topics`, as (a key equal for equal
    selections, a function of (records, trades, all facts of `kinds` or None) giving them); None
    when it takes no facts. Only a subscription of several kinds or of user topics needs all facts."""
    mine = frozenset(kind for topic, kind in FACT_TOPICS.items() if topic in topics)
    users = frozenset(topic[len(USER) :] for topic in topics if topic.startswith(USER))
    if users:

        def select_owned(records: Sequence[Record], trades: list[Trade], events: list[Event] | None) -> list[Any]:
            batch: list[Any] = []
            for event in events or ():
                kind = type(event)
                if kind in mine:
                    batch.append(event)
                if kind is Trade:
                    if event.buyer in users:  # type: ignore[union-attr]
                        batch.append(event)
                    if event.seller in users:  # type: ignore[union-attr]
                        batch.append(event)
                elif kind is not DepthChange and event.user in users:  # type: ignore[union-attr]
                    batch.append(event)
            return batch

        return (mine, users), select_owned
    if not mine:
        return None
    if len(mine) == 1:
        only = tuple(mine)
        return mine, lambda records, trades, events: facts(records, only, trades)
    if mine >= kinds:
        return mine, lambda records, trades, events: events or []
    return mine, lambda records, trades, events: [event for event in events or () if type(event) in mine]


def _offer(subscriptions: list[Subscription], batch: list[Any]) -> None:
    """Queue `batch` for each subscription, one notification each."""
    for subscription in subscriptions:
        queue = subscription.queue
        if subscription.overflowed or len(queue) + len(batch) > subscription.maxsize:
            subscription.offer_all(batch)
            continue
        queue.extend(batch)
        if subscription.notify is not None:
            subscription.notify()


class Bus:
    def __init__(self) -> None:
        self._by_topic: dict[str, list[Subscription]] = {}
        self._plan: Plan | None = None

    def subscribe(
        self, topics: Iterable[str], maxsize: int = 1000, notify: Callable[[], None] | None = None
    ) -> Subscription:
        subscription = Subscription(self, (), maxsize, notify)
        for topic in topics:
            self.add_topic(subscription, topic)
        return subscription

    def add_topic(self, subscription: Subscription, topic: str) -> None:
        if topic not in subscription.topics:
            subscription.topics.add(topic)
            self._by_topic.setdefault(topic, []).append(subscription)
            self._plan = None

    def remove_topic(self, subscription: Subscription, topic: str) -> None:
        if topic in subscription.topics:
            subscription.topics.discard(topic)
            subscribers = self._by_topic[topic]
            subscribers.remove(subscription)
            if not subscribers:
                del self._by_topic[topic]
            self._plan = None

    def close(self, subscription: Subscription) -> None:
        for topic in list(subscription.topics):
            self.remove_topic(subscription, topic)

    def publish(self, topic: str, message: Any) -> int:
        """Offer a message to every subscriber of the topic; returns how many there were."""
        subscribers = self._by_topic.get(topic)
        if not subscribers:
            return 0
        for subscription in subscribers:
            subscription.offer(message)
        return len(subscribers)

    def listened(self) -> frozenset[type]:
        """The kinds of facts somebody subscribed to (directly or through a user topic)."""
        return self._delivery_plan()[0]

    def _delivery_plan(self) -> Plan:
        """The kinds of facts somebody listens to, whether some subscription takes several kinds or
        user topics (then all of them are made in one ordered list), and the subscriptions of fact
        topics or `changed` grouped by what they select, each selection made once per operation.
        Remade whenever a subscription's topics change."""
        if self._plan is None:
            topics = self._by_topic
            wanted = {kind for topic, kind in FACT_TOPICS.items() if topic in topics}
            if any(topic.startswith(USER) for topic in topics):
                wanted.update(OWNED)
            kinds = frozenset(wanted)
            seen: dict[int, Subscription] = {}
            for topic in (*FACT_TOPICS, CHANGED, *(t for t in topics if t.startswith(USER))):
                for subscription in topics.get(topic, ()):
                    seen.setdefault(id(subscription), subscription)
            groups: dict[Hashable, Group] = {}
            mixed = False
            for subscription in seen.values():
                selection = _selector(subscription.topics, kinds)
                key, select = selection if selection is not None else (None, None)
                mixed = mixed or (isinstance(key, frozenset) and len(key) > 1) or isinstance(key, tuple)
                only = next(iter(key)) if isinstance(key, frozenset) and len(key) == 1 else None
                _, _, plain, changed = groups.setdefault(
                    key, (only if only in (Trade, DepthChange) else None, select, [], [])
                )
                (changed if CHANGED in subscription.topics else plain).append(subscription)
            self._plan = (kinds, mixed, list(groups.values()))
        return self._plan

    def deliver(self, records: Sequence[Record], trades: list[Trade], version: int) -> None:
        """Hand one operation's engine records to whoever listens: each subscription receives its facts
        in one batch, then `version` if it subscribed to `changed`. `trades` are the trades of the
        FILL records in order, already made by the world (they are handed out, not made again).
        Every selection is made once, however many subscriptions take it."""
        kinds, mixed, groups = self._plan or self._delivery_plan()
        events = facts(records, kinds, trades) if mixed else None
        for kind, select, plain, changed in groups:
            if kind is Trade:
                batch: list[Any] = trades
            elif kind is DepthChange:
                batch = depth_changes(records)
            else:
                batch = select(records, trades, events) if select is not None else []
            if changed:
                _offer(changed, [*batch, version])
            if batch:
                _offer(plain, batch)
