"""One real Dynamo worker of the installed ai-dynamo-runtime release (0.4.1 to 1.6.1) that pushes
the load the test gives it through the release's own WorkerMetricsPublisher, serving a `generate`
endpoint so that it registers in etcd as a real worker does.

Usage: python pusher.py NAMESPACE COMPONENT [TOTAL_KV_BLOCKS MAX_NUM_SEQS]
        with the two numbers (0.8.0 on), the worker registers a model card whose runtime_config
        states them, as an engine does (a tensor-based model: no tokenizer or weights needed)
stdin:  one JSON object per line:
        {"load": {...}}  publish load; keys kv_active, kv_total, active, total, waiting, usage, hit,
                         dp_rank (0.4.1 to 0.8.x take all; 0.9 to 1.0 take dp_rank and
                         decode; 1.1 on take dp_rank, decode and used)
        {"fpm": {...}}   forward-pass metrics (1.2 on) of rank dp_rank: scheduled_prefill,
                         scheduled_decode, queued_prefill, queued_decode; republished every 0.2 s
                         so that the publisher's idle heartbeat (zeros) does not replace them
stdout: "WORKER <version> <worker id in decimal>" once registered, then "PUBLISHED <n>" after each
        command, "FAILED <reason>" when the release refuses it.
NATS_SERVER, ETCD_ENDPOINTS and DYN_EVENT_PLANE select the servers and the plane.
"""
import asyncio
import importlib.metadata
import inspect
import json
import re
import sys

from dynamo.runtime import DistributedRuntime, dynamo_worker  # noqa: F401
import dynamo.llm as llm

VERSION = importlib.metadata.version("ai-dynamo-runtime")
V = tuple(int(x) for x in re.findall(r"\d+", VERSION)[:3])


def decorator():
    if "static" in inspect.signature(dynamo_worker).parameters:
        return dynamo_worker(static=False)
    return dynamo_worker()


async def generate(request, context=None):
    """The worker's request handler; the test never sends requests."""
    yield {"token_ids": []}


async def start(awaitable):
    """Runs a call that may serve forever: returns once it is set up (or raises what stopped it)."""
    task = asyncio.ensure_future(awaitable)
    await asyncio.sleep(0.5)
    if task.done():
        task.result()
    return task


def worker_id(endpoint):
    for name in ("lease_id", "connection_id"):
        if hasattr(endpoint, name):
            return getattr(endpoint, name)()
    raise RuntimeError("no way to read the worker id in " + VERSION)


def publish(pub, m):
    if V < (0, 9):
        stats = llm.WorkerStats(m.get("active", 0), m.get("total", 0), m.get("waiting", 0),
                                m.get("dp_rank"))
        kv = llm.KvStats(m.get("kv_active", 0), m.get("kv_total", 0), m.get("usage", 0.0),
                         m.get("hit", 0.0))
        pub.publish(llm.ForwardPassMetrics(stats, kv, None))
    elif V < (1, 1):
        pub.publish(m.get("dp_rank"), m.get("decode", 0))
    else:
        pub.publish(m.get("dp_rank"), m.get("decode"), m.get("used"))


async def republish(fpm, f):
    while True:
        fpm.publish(
            dp_rank=f.get("dp_rank", 0),
            scheduled_num_prefill_requests=f.get("scheduled_prefill", 0),
            scheduled_sum_prefill_tokens=10,
            scheduled_sum_prefill_kv_tokens=10,
            scheduled_num_decode_requests=f.get("scheduled_decode", 0),
            scheduled_sum_decode_kv_tokens=10,
            queued_num_prefill_requests=f.get("queued_prefill", 0),
            queued_sum_prefill_tokens=10,
            queued_num_decode_requests=f.get("queued_decode", 0),
            queued_sum_decode_kv_tokens=10,
            wall_time_secs=0.01,
        )
        await asyncio.sleep(0.2)


async def register_card(endpoint, total_kv_blocks, max_num_seqs):
    config = llm.ModelRuntimeConfig()
    config.total_kv_blocks = total_kv_blocks
    config.max_num_seqs = max_num_seqs
    register = getattr(llm, "register_model", None) or llm.register_llm
    extra = {}
    if hasattr(llm, "WorkerType"):  # 1.5 on: a worker says which stage it serves
        extra["worker_type"] = llm.WorkerType.Aggregated
    await register(llm.ModelInput.Tensor, llm.ModelType.TensorBased, endpoint, "tiny",
                   runtime_config=config, **extra)


async def read_lines(loop):
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


@decorator()
async def main(runtime, namespace, component_name, card):
    if hasattr(runtime, "namespace"):
        component = runtime.namespace(namespace).component(component_name)
        if V < (0, 8) and hasattr(component, "create_service"):
            await component.create_service()
        endpoint = component.endpoint("generate")
    else:  # 1.0 on: endpoints by path
        component = None
        endpoint = runtime.endpoint(f"{namespace}.{component_name}.generate")
    serving = await start(endpoint.serve_endpoint(generate))
    pub = llm.WorkerMetricsPublisher()
    metrics = await start(pub.create_endpoint(endpoint if V >= (1, 0) else component))
    if card:
        await register_card(endpoint, *card)
    fpm = None
    if V >= (1, 2):
        fpm = llm.FpmDirectPublisher(endpoint, "fpm-" + component_name, 1)
    print(f"WORKER {VERSION} {worker_id(endpoint)}", flush=True)
    reader = await read_lines(asyncio.get_running_loop())
    count = 0
    repeating = {}
    while line := await reader.readline():
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)
        count += 1
        try:
            if "load" in command:
                publish(pub, command["load"])
            else:
                f = command["fpm"]
                rank = f.get("dp_rank", 0)
                if rank in repeating:
                    repeating[rank].cancel()
                repeating[rank] = asyncio.ensure_future(republish(fpm, f))
                await asyncio.sleep(0.1)
            print(f"PUBLISHED {count}", flush=True)
        except Exception as e:  # the release's refusal, reported to the test
            print(f"FAILED {type(e).__name__}: {e}".replace("\n", " "), flush=True)
    for task in repeating.values():
        task.cancel()
    # a clean stop, as a worker told to stop does: the runtime revokes its lease (deleting its
    # instance keys) and the endpoint's serving ends
    runtime.shutdown()
    try:
        await asyncio.wait_for(serving, 10)
    except Exception:  # noqa: BLE001 - whatever ends it, the lease is gone by now
        pass
    metrics.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:5]]))
