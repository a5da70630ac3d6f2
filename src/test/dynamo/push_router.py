"""The real KV router of the installed ai-dynamo-runtime release (0.8.x, 0.9.x: KvPushRouter), on
the workers' `generate` endpoint: each routed request publishes one real hit-rate event, and the
router publishes its own estimate of each worker's load on the workers' load subject.

Usage: python push_router.py NAMESPACE COMPONENT BLOCK_SIZE
stdin:  one JSON command per line: {"route": [...token ids...]}
stdout: "READY" once the router has had time to find the workers, then per command
        "ROUTED <worker id> <overlap blocks>", or "FAILED <reason>" when Dynamo refuses.
"""
import asyncio
import inspect
import json
import sys
import uuid

from dynamo.runtime import DistributedRuntime, dynamo_worker  # noqa: F401
import dynamo.llm as llm


def decorator():
    if "static" in inspect.signature(dynamo_worker).parameters:
        return dynamo_worker(static=False)
    return dynamo_worker()


async def read_lines(loop):
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


@decorator()
async def main(runtime, namespace, component_name, block_size):
    endpoint = runtime.namespace(namespace).component(component_name).endpoint("generate")
    router = llm.KvPushRouter(endpoint, block_size, llm.KvRouterConfig(use_kv_events=False))
    await asyncio.sleep(2.5)  # the router finds the workers and their load first
    print("READY", flush=True)
    reader = await read_lines(asyncio.get_running_loop())
    while line := await reader.readline():
        line = line.strip()
        if not line:
            continue
        tokens = json.loads(line)["route"]
        try:
            result = await router.best_worker(tokens, request_id=str(uuid.uuid4()))
            worker, overlap = result[0], result[-1]
            print(f"ROUTED {worker} {overlap}", flush=True)
        except Exception as e:  # Dynamo's refusal, reported to the test
            print(f"FAILED {type(e).__name__}: {e}".replace("\n", " "), flush=True)
    runtime.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
