"""One real Dynamo worker: a runtime of the installed ai-dynamo-runtime release that serves the
load_metrics endpoint and publishes the load the test gives it.

Usage: python worker.py NAMESPACE COMPONENT
stdin:  one JSON object per line, the seven ForwardPassMetrics fields (plus optional
        data_parallel_rank); each line is published at once.
stdout: "WORKER <version> <lease id in decimal>" once the endpoint serves, then
        "PUBLISHED <n>" after the n-th publish.
NATS_SERVER and ETCD_ENDPOINTS select the servers, as for every Dynamo process.
"""
import asyncio
import importlib.metadata
import json
import sys

from dynamo.runtime import DistributedRuntime, dynamo_worker  # noqa: F401
import dynamo.llm as llm

VERSION = importlib.metadata.version("ai-dynamo-runtime")
FIELDS = ("request_active_slots", "request_total_slots", "kv_active_blocks", "kv_total_blocks",
          "num_requests_waiting", "gpu_cache_usage_perc", "gpu_prefix_cache_hit_rate")


def publisher():
    if hasattr(llm, "WorkerMetricsPublisher"):
        return llm.WorkerMetricsPublisher()
    return llm.KvMetricsPublisher()


def publish(pub, m):
    """Publishes one load report in the form this release's bindings take."""
    if hasattr(llm, "ForwardPassMetrics"):  # 0.3.2 and later: nested
        worker = llm.WorkerStats(m["request_active_slots"], m["request_total_slots"],
                                 m["num_requests_waiting"], m.get("data_parallel_rank"))
        kv = llm.KvStats(m["kv_active_blocks"], m["kv_total_blocks"],
                         m["gpu_cache_usage_perc"], m["gpu_prefix_cache_hit_rate"])
        pub.publish(llm.ForwardPassMetrics(worker, kv, None))
    elif VERSION in ("0.3.0", "0.3.1"):  # flat, with the data-parallel rank
        pub.publish(*[m[f] for f in FIELDS], m.get("data_parallel_rank") or 0)
    else:
        pub.publish(*[m[f] for f in FIELDS])


async def read_lines(loop):
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


@dynamo_worker(static=False)
async def main(runtime, namespace, component_name):
    component = runtime.namespace(namespace).component(component_name)
    await component.create_service()
    pub = publisher()
    serving = asyncio.ensure_future(pub.create_endpoint(component))
    lease = component.endpoint("load_metrics").lease_id()
    await asyncio.sleep(0.2)  # let the endpoint's subscription reach the server
    if serving.done():
        serving.result()  # raises what stopped it
    print(f"WORKER {VERSION} {lease}", flush=True)
    reader = await read_lines(asyncio.get_running_loop())
    count = 0
    while line := await reader.readline():
        line = line.strip()
        if not line:
            continue
        publish(pub, json.loads(line))
        count += 1
        print(f"PUBLISHED {count}", flush=True)
    serving.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
