// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: the congestion control of tcp_cc.h in a .struct_ops.link
// map, registered by a bpf_link (BPF_LINK_CREATE) and unregistered when
// the link is closed.
#include "tcp_cc.h"

SEC(".struct_ops.link")
struct tcp_congestion_ops tsbpf_cc_link = TSBPF_CC_OPS("tsbpf_cc_link");
