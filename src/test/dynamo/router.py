"""The real Dynamo KV router of the installed ai-dynamo-runtime release (0.1.1 to 0.3.1), built on
the workers' own component, so that every schedule() publishes one real KVHitRateEvent on
namespace.{ns}.kv-hit-rate.

Usage: python router.py NAMESPACE COMPONENT BLOCK_SIZE
stdin:  one JSON command per line:
        {"store": WORKER_ID, "tokens": [...]}  a real KvEventPublisher announces that WORKER_ID
                                                 cached these tokens (whole blocks), which gives
                                                 the router's next schedules an overlap
        {"schedule": [...tokens...]}           route one request
stdout: "READY" once the router has had time for its first metrics scrape, then per command
        "STORED <worker id>" or "SCHEDULED <worker id>"; "FAILED <reason>" when Dynamo refuses.
"""
import asyncio
import json
import sys

from dynamo.runtime import DistributedRuntime, dynamo_worker  # noqa: F401
import dynamo.llm as llm


async def read_lines(loop):
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


@dynamo_worker(static=False)
async def main(runtime, namespace, component_name, block_size):
    component = runtime.namespace(namespace).component(component_name)
    router = llm.KvRouter(component, block_size)
    # scheduling before the router's first metrics scrape kills its scheduler for good
    await asyncio.sleep(2.5)
    print("READY", flush=True)
    publishers = {}
    event_id = 0
    reader = await read_lines(asyncio.get_running_loop())
    while line := await reader.readline():
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)
        try:
            if "store" in command:
                worker = int(command["store"])
                if worker not in publishers:
                    publishers[worker] = llm.KvEventPublisher(component, worker, block_size)
                tokens = command["tokens"]
                blocks = len(tokens) // block_size
                event_id += 1
                publishers[worker].publish_stored(
                    event_id, tokens[: blocks * block_size], [block_size] * blocks,
                    [event_id * 1000 + b for b in range(blocks)], 0)
                print(f"STORED {worker}", flush=True)
            else:
                chosen = await router.schedule(command["schedule"], 0)
                print(f"SCHEDULED {chosen}", flush=True)
        except Exception as e:  # Dynamo's refusal, reported to the test
            print(f"FAILED {type(e).__name__}: {e}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
