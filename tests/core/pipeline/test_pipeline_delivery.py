"""Delivery against a real local receiver: signed, retried on the schedule, dead, re-queued."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import format_datetime

import pytest
from fakepay import thing_paid
from standardwebhooks import Webhook

from core.models import DeliveryStatus
from core.pipeline import DeliveryInFlight


@pytest.fixture
def target(fake, receiver, live_server):
    """A purchase.completed subscription to the receiver; returns (subscription, secret)."""
    url = live_server(receiver.app())
    return fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                             target_url=f"{url}/hook")


async def purchase(fake, event_id="evt_1"):
    fake.receive(thing_paid(event_id))
    return await fake.host.pipeline.run_once()


def only_delivery(fake):
    (delivery,) = fake.host.pipeline.list_deliveries()
    return delivery


def verified(receiver, secret):
    """Every request the receiver got, checked with the standardwebhooks library."""
    return [Webhook(secret).verify(body, headers) for body, headers in receiver.requests]


async def test_a_2xx_answer_marks_the_delivery_delivered(fake, target, receiver, recorder):
    _, secret = target
    report = await purchase(fake)
    assert report.deliveries.delivered == 1
    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert delivery.delivered_at is not None
    (payload,) = verified(receiver, secret)
    assert payload["type"] == "purchase.completed" and payload["data"]["amount"] == 4900
    body, headers = receiver.requests[0]
    assert headers["webhook-id"] == delivery.id
    assert headers["content-type"] == "application/json"
    (row,) = recorder.deliveries()
    assert body == row.payload.encode(), "the body is the stored payload, byte for byte"


async def test_a_410_removes_the_subscription_and_is_not_retried(fake, target, receiver, clock):
    subscription, _ = target
    receiver.script = [(410, {})]
    await purchase(fake)
    delivery = only_delivery(fake)
    assert delivery.status is DeliveryStatus.CANCELLED
    assert "410" in delivery.last_error and "subscription was removed" in delivery.last_error
    assert subscription.id not in {s.id for s in fake.host.subscriptions.list(fake.tenant.id)}
    clock.advance(days=2)
    await fake.host.pipeline.run_once()
    assert len(receiver.requests) == 1


async def test_a_429_waits_for_the_seconds_in_retry_after(fake, target, receiver, clock):
    receiver.script = [(429, {"retry-after": "120"})]
    await purchase(fake)
    delivery = only_delivery(fake)
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 429)
    assert delivery.next_attempt_at == clock.now() + timedelta(seconds=120)
    clock.advance(119)
    await fake.host.pipeline.run_once()
    assert len(receiver.requests) == 1
    clock.advance(1)
    await fake.host.pipeline.run_once()
    assert only_delivery(fake).status is DeliveryStatus.DELIVERED


async def test_a_429_waits_until_the_http_date_in_retry_after(fake, target, receiver, clock):
    later = clock.now() + timedelta(hours=1)
    receiver.script = [(429, {"retry-after": format_datetime(later, usegmt=True)})]
    await purchase(fake)
    assert only_delivery(fake).next_attempt_at == later


async def test_a_5xx_is_retried_after_5_seconds_with_the_same_webhook_id(fake, target, receiver, clock):
    _, secret = target
    receiver.script = [(503, {})]
    await purchase(fake)
    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 1, 503)
    assert "answered 503" in delivery.last_error
    assert delivery.next_attempt_at == clock.now() + timedelta(seconds=5)
    clock.advance(5)
    await fake.host.pipeline.run_once()
    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(verified(receiver, secret)) == 2
    assert {h["webhook-id"] for _, h in receiver.requests} == {delivery.id}


async def test_a_receiver_that_does_not_answer_in_time_is_retried(fake, target, receiver):
    fake.host.pipeline.configure(delivery_timeout_seconds=0.3)
    receiver.delay = 1.0
    await purchase(fake)
    delivery = only_delivery(fake)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error


async def test_an_unreachable_target_is_retried_and_the_error_does_not_show_the_url(fake, clock):
    from core.testing import free_port

    url = f"http://127.0.0.1:{free_port()}/secret-path-token"
    fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed", target_url=url)
    await purchase(fake)
    delivery = only_delivery(fake)
    assert delivery.status is DeliveryStatus.PENDING
    assert "Could not reach the target" in delivery.last_error
    assert "secret-path-token" not in delivery.last_error


async def test_failures_follow_the_schedule_until_the_delivery_is_dead(fake, target, receiver, clock):
    _, secret = target
    receiver.script = [(500, {})] * 8
    await purchase(fake)
    waits = []
    for _ in range(7):
        delivery = only_delivery(fake)
        waits.append((delivery.next_attempt_at - clock.now()).total_seconds())
        clock.set(delivery.next_attempt_at)
        await fake.host.pipeline.run_once()
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 36000]
    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 8)
    assert "Gave up after 8 attempts" in delivery.last_error
    assert len(verified(receiver, secret)) == 8
    clock.advance(days=30)
    await fake.host.pipeline.run_once()
    assert len(receiver.requests) == 8, "a dead delivery is not sent again by itself"


async def test_a_dead_delivery_can_be_retried_by_the_operator(fake, target, receiver, clock):
    fake.host.pipeline.configure(delivery_schedule=(5,))
    receiver.script = [(500, {}), (500, {})]
    await purchase(fake)
    clock.advance(5)
    await fake.host.pipeline.run_once()
    assert only_delivery(fake).status is DeliveryStatus.DEAD
    retried = fake.host.pipeline.retry_delivery(only_delivery(fake).id)
    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 0)
    await fake.host.pipeline.run_once()
    assert only_delivery(fake).status is DeliveryStatus.DELIVERED


async def test_a_delivery_without_a_secret_is_sent_unsigned_with_id_and_timestamp(fake, receiver, live_server):
    url = live_server(receiver.app())
    fake.receive({"id": "evt_n", "type": "thing.notify", "account": "acct_fake_1", "target": f"{url}/hook"})
    await fake.host.pipeline.run_once()
    (body, headers), = receiver.requests
    assert body == b'{"note":"hello"}'
    assert "webhook-signature" not in headers
    assert headers["webhook-id"] == only_delivery(fake).id
    assert headers["webhook-timestamp"].isdigit()


async def test_a_target_whose_name_turns_private_after_its_checks_is_never_connected(
        make_fake, receiver, live_server, monkeypatch):
    """DNS rebinding: the name answers with a public address when subscribed and at the send-time
    check, then with loopback when the connection is made. The connection is checked too."""
    import socket

    fake = make_fake(settings={"allow_loopback_targets": False})
    port = int(live_server(receiver.app()).rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34", "93.184.216.34"])

    def rebinding_dns(host, *args, **kwargs):
        if host not in ("rebind.example", b"rebind.example"):  # anyio asks with the IDNA-encoded bytes
            return real_getaddrinfo(host, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                      target_url=f"https://rebind.example:{port}/hook")

    await purchase(fake)

    delivery = only_delivery(fake)
    assert delivery.status is DeliveryStatus.PENDING, "refused now, retried later like any unreachable target"
    assert delivery.last_error.startswith("Not sent:") and "127.0.0.1" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.parametrize(("target", "reason"), [
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://93.184.216.34/hook", "https://"),
])
async def test_an_unsafe_target_a_plugin_delivers_to_is_never_sent(make_fake, target, reason):
    """Targets passed to ``ctx.deliver`` are checked when sent (nothing checks them when stored)."""
    fake = make_fake(settings={"allow_loopback_targets": False})
    fake.receive({"id": "evt_unsafe", "type": "thing.notify", "account": "acct_fake_1", "target": target})

    await fake.host.pipeline.run_once()

    delivery = only_delivery(fake)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_error.startswith("Not sent:") and reason in delivery.last_error


async def test_deliveries_to_one_target_reuse_its_connection(fake):
    """Connection reuse per target is what lets deliveries keep up (bench/README.md)."""
    from tests.core.test_guarded_connector import Receiver

    counting = Receiver()
    server = await asyncio.start_server(counting.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                      target_url=f"http://127.0.0.1:{port}/hook")
    fake.host.pipeline.configure(delivery_concurrency=1)
    async with server:
        for n in range(4):
            fake.receive(thing_paid(f"evt_{n}"))
        report = await fake.host.pipeline.run_once()
        server.close()

    assert report.deliveries.delivered == 4
    assert counting.connections == 1


async def test_a_huge_answer_is_not_read_to_its_end(fake, clock):
    """A receiver cannot make a worker read (or hold) an unbounded body: past a limit the connection is dropped."""

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 100000000\r\n\r\n")
            for _ in range(200):
                writer.write(b"x" * 65536)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fake.host.subscriptions.subscribe(fake.tenant.id, "fake", event_type="purchase.completed",
                                      target_url=f"http://127.0.0.1:{port}/hook")
    async with server:
        await purchase(fake)
        server.close()

    delivery = only_delivery(fake)
    assert delivery.status is DeliveryStatus.PENDING and delivery.last_status_code == 500
    assert delivery.last_error == "The target answered 500: " + "x" * 200


async def test_a_target_that_always_answers_429_goes_dead_at_the_end_of_the_schedule(fake, target, receiver, clock):
    receiver.script = [(429, {"retry-after": "60"})] * 9
    await purchase(fake)
    started = clock.now()
    for _ in range(7):
        delivery = only_delivery(fake)
        assert delivery.status is DeliveryStatus.PENDING
        clock.set(delivery.next_attempt_at)
        await fake.host.pipeline.run_once()

    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DEAD, 8, 429)
    assert "Gave up after 8 attempts" in delivery.last_error
    schedule = sum(fake.host.pipeline.config.delivery_schedule)
    assert schedule <= (clock.now() - started).total_seconds() <= schedule + 60, "the schedule's horizon"
    clock.advance(days=30)
    await fake.host.pipeline.run_once()
    assert len(receiver.requests) == 8


async def test_a_429_never_retries_sooner_than_it_asked_nor_than_the_schedule(fake, target, receiver, clock):
    receiver.script = [(429, {"retry-after": "1"}), (429, {"retry-after": "900"})]
    await purchase(fake)
    first = only_delivery(fake)
    assert first.next_attempt_at == clock.now() + timedelta(seconds=5), "the schedule's first step is longer"
    clock.set(first.next_attempt_at)
    await fake.host.pipeline.run_once()
    assert only_delivery(fake).next_attempt_at == clock.now() + timedelta(seconds=900), "Retry-After is longer"


async def test_a_retry_after_reaching_past_the_end_of_the_schedule_makes_the_delivery_dead_at_once(
        fake, target, receiver, clock):
    receiver.script = [(429, {"retry-after": str(10 * 24 * 3600)})]  # "come back in 10 days"
    await purchase(fake)

    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DEAD, 1, 429)
    assert "Retry-After" in delivery.last_error and "after its retry schedule ends" in delivery.last_error
    assert "deliveries retry" in delivery.last_error
    clock.advance(days=30)
    await fake.host.pipeline.run_once()
    assert len(receiver.requests) == 1, "never sent before the target asked, and not parked for 10 days either"


async def test_a_target_asking_for_a_day_each_time_is_dead_within_the_schedules_horizon(
        fake, target, receiver, clock):
    receiver.script = [(429, {"retry-after": str(24 * 3600)})] * 9
    await purchase(fake)
    started = clock.now()
    while (delivery := only_delivery(fake)).status is DeliveryStatus.PENDING:
        assert delivery.next_attempt_at - clock.now() >= timedelta(hours=24), "never sooner than it asked"
        clock.set(delivery.next_attempt_at + timedelta(seconds=3))  # a worker a little late, as they are
        await fake.host.pipeline.run_once()

    assert delivery.status is DeliveryStatus.DEAD and delivery.attempts == 2
    schedule = sum(fake.host.pipeline.config.delivery_schedule)
    assert (clock.now() - started).total_seconds() <= schedule, "dead within the schedule's horizon, not days later"


async def test_a_requeued_delivery_gets_a_fresh_horizon_for_retry_after(fake, target, receiver, clock):
    receiver.script = [(429, {"retry-after": str(10 * 24 * 3600)}), (429, {"retry-after": str(24 * 3600)})]
    await purchase(fake)
    assert only_delivery(fake).status is DeliveryStatus.DEAD
    clock.advance(days=3)

    fake.host.pipeline.retry_delivery(only_delivery(fake).id)
    await fake.host.pipeline.run_once()

    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.next_attempt_at == clock.now() + timedelta(hours=24)


async def test_a_short_retry_after_on_the_last_step_of_a_late_worker_keeps_the_schedule(
        fake, target, receiver, clock):
    receiver.script = [(500, {})] * 6 + [(429, {"retry-after": "60"}), (200, {})]
    await purchase(fake)
    for _ in range(6):
        clock.set(only_delivery(fake).next_attempt_at + timedelta(minutes=5))  # late workers
        await fake.host.pipeline.run_once()

    delivery = only_delivery(fake)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 7)
    assert delivery.next_attempt_at == clock.now() + timedelta(hours=10), "the schedule's last step"


async def test_a_retry_of_a_delivery_a_worker_is_sending_is_refused(fake, target, receiver, clock):
    receiver.script = [(500, {})]
    await purchase(fake)
    delivery = only_delivery(fake)
    clock.set(delivery.next_attempt_at)
    sender = fake.host.pipeline.deliverer  # a worker claims it and is sending it now
    (claimed,) = sender.claim()

    with pytest.raises(DeliveryInFlight) as refused:
        fake.host.pipeline.retry_delivery(delivery.id)

    assert refused.value.http_status == 409
    assert "being sent right now" in refused.value.message
    async with sender.client() as client:
        report = sender.record(await sender.send(client, [claimed]))
    assert report.delivered == 1
    assert len(receiver.requests) == 2, "sent once by the worker, not a second time by the retry"
