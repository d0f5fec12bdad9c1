"""Publish/subscribe for market messages, with a bounded queue per subscriber.

Publishing never blocks and never waits for a reader: a subscriber whose queue is full is marked
overflowed and stops receiving, and its owner (a websocket writer, say) closes it with a reason.
That keeps one slow client from slowing the market or anybody else.
"""

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any


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

    def drain(self) -> list[Any]:
        items = list(self.queue)
        self.queue.clear()
        return items

    def close(self) -> None:
        self._bus.close(self)


class Bus:
    def __init__(self) -> None:
        self._by_topic: dict[str, list[Subscription]] = {}

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

    def remove_topic(self, subscription: Subscription, topic: str) -> None:
        if topic in subscription.topics:
            subscription.topics.discard(topic)
            subscribers = self._by_topic[topic]
            subscribers.remove(subscription)
            if not subscribers:
                del self._by_topic[topic]

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
