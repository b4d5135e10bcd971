/**
 * What an attachment does, step by step, for a listener (BpfObject turns
 * them into its LoadSteps, so --explain narrates them): each step is
 * emitted just before the syscalls it stands for.
 */
export type AttachStep =
  /** openat + read of events/CATEGORY/NAME/id in tracefs (`path`, relative to it): the tracepoint's number, which perf_event_open needs. */
  | { kind: "tracefs-id"; tracepoint: string; path: string }
  /** perf_event_open of a tracepoint (or probe) event, on every CPU: the event the program will hang off. */
  | { kind: "perf-event-open"; program: string; event: string }
  /** BPF_LINK_CREATE (attach type BPF_PERF_EVENT): binds the program to the event; closing the link detaches it. */
  | { kind: "perf-link"; program: string; event: string }
  /** ioctl(PERF_EVENT_IOC_ENABLE): the event starts firing, and with it the program. */
  | { kind: "perf-enable"; event: string };

export type AttachStepListener = (step: AttachStep) => void;
