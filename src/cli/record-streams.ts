/**
 * The records an object produces while `tsbpf load` runs: every ring
 * buffer and perf event array map is read by one poller, each record decoded through the object's
 * BTF (struct event by default) and handed to the printer.
 */
import { BtfKind } from "../btf/types.js";
import { RingBufferPoller } from "../maps/ring-poller.js";
import { RingBuffer } from "../maps/ringbuf.js";
import { PerfBuffer } from "../maps/perf-buffer.js";
import { makeDecoder } from "../btf/value-decoder.js";
import type { BpfObject } from "../object/bpf-object.js";
import type { StepListener } from "../object/load-steps.js";
import { BpfMapType } from "../abi/uapi-enums.js";
import { recordColumns } from "./record-columns.js";
import type { RecordPrinter } from "./record-printer.js";

export interface RecordStreams {
  stop(): Promise<void>;
}

export function streamRecords(obj: BpfObject, printer: RecordPrinter, recordType?: string, onStep?: StepListener): RecordStreams {
  const rings = obj.maps.filter((m) => m.spec.type === BpfMapType.RINGBUF);
  const perfMaps = obj.maps.filter((m) => m.spec.type === BpfMapType.PERF_EVENT_ARRAY);
  if (rings.length === 0 && perfMaps.length === 0) return { stop: async () => {} };
  const btf = obj.spec.btf?.btf;
  const typeName = recordType ?? (btf?.idsByName("event").some((id) => btf.kind(id) === BtfKind.Struct) ? "struct event" : undefined);
  const decode = btf && typeName ? makeDecoder(btf, typeName) : undefined;
  const columns = btf && decode ? recordColumns(btf, decode.typeId) : undefined;
  // Created after the first ring buffer's step, which narrates its epoll set too.
  let pollerMade: RingBufferPoller | undefined;
  const poller = () => (pollerMade ??= new RingBufferPoller());
  const opened: Array<{ close(): void }> = [];
  // A record shorter than the type (another struct sent to the same ring) is shown as bytes.
  const print = (name: string) => (view: Uint8Array) =>
    printer.print(
      name,
      decode && columns && view.byteLength >= decode.size
        ? { value: decode(view), bytes: view, columns }
        : { value: undefined, bytes: view },
    );
  for (const map of rings) {
    onStep?.({ kind: "ring-buffer", map: map.name, dataBytes: map.spec.maxEntries });
    poller();
    const ring = new RingBuffer(map);
    opened.push(ring);
    poller().add(ring, print(map.name));
  }
  for (const map of perfMaps) {
    const perf = new PerfBuffer(map);
    opened.push(perf);
    for (const ring of perf.rings) poller().add(ring, print(map.name));
  }
  const running = poller().start();
  return {
    async stop() {
      poller().stop();
      try {
        await running;
        // What the programs wrote before the stop and the poller had not woken for yet: shown, not dropped.
        poller().consume();
      } finally {
        poller().close();
        for (const r of opened) r.close();
      }
    },
  };
}
