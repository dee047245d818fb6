"""Figures read when Prometheus scrapes, read from the real parts: here, Celery queue depths from Redis."""

from redis import Redis

from registry.celery import app
from registry.metrics_collectors import celery_queue_depths
from tests.integration.celery_workers import Broker


def test_queue_depths_are_read_under_the_brokers_global_key_prefix():
    broker = Broker()
    redis = Redis.from_url(broker.url)
    with broker.sending():
        for queue, count in (("codegen", 2), ("notifications", 1)):
            for _ in range(count):
                app.send_task("tests.never-run", queue=queue)
        assert broker.depth("codegen") == 2  # the messages wait under the prefix, where kombu put them
        keys_before = set(redis.scan_iter(match=broker.key_prefix + "*"))
        depths = celery_queue_depths(["celery", "codegen", "notifications"])
        assert set(redis.scan_iter(match=broker.key_prefix + "*")) == keys_before  # reading wrote nothing
    assert depths == {"celery": 0, "codegen": 2, "notifications": 1}
