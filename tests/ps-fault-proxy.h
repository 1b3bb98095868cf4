/* ps-fault-proxy.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PsFault:
 * @PS_FAULT_NONE: forward unchanged
 * @PS_FAULT_LATENCY: wait `param` ms before forwarding each chunk, both ways
 * @PS_FAULT_BANDWIDTH: cap the exchange at `param` bytes per second, both ways
 * @PS_FAULT_CUT: close both connections after `param` bytes of the exchange
 *   (request and answer counted together)
 * @PS_FAULT_RESET: reset the client's connection when the request arrives
 * @PS_FAULT_HTTP_500: answer `500 Internal Server Error` without forwarding
 * @PS_FAULT_HTTP_503: answer `503 Service Unavailable` without forwarding
 * @PS_FAULT_TRUNCATE: close after `param` bytes of the answer's body
 * @PS_FAULT_CORRUPT: replace the byte at offset `param` of the answer's body
 *   (or the next one that can be replaced) so that the JSON is invalid
 * @PS_FAULT_TRICKLE: send the answer one byte every `param` ms, for its first
 *   %PS_FAULT_TRICKLE_BYTES bytes
 *
 * What the proxy does to one request and its answer.
 */
typedef enum
{
  PS_FAULT_NONE,
  PS_FAULT_LATENCY,
  PS_FAULT_BANDWIDTH,
  PS_FAULT_CUT,
  PS_FAULT_RESET,
  PS_FAULT_HTTP_500,
  PS_FAULT_HTTP_503,
  PS_FAULT_TRUNCATE,
  PS_FAULT_CORRUPT,
  PS_FAULT_TRICKLE,
  PS_N_FAULTS
} PsFault;

#define PS_FAULT_MASK(fault) (1u << (fault))
#define PS_FAULT_MASK_ALL    ((PS_FAULT_MASK (PS_N_FAULTS) - 1) & ~PS_FAULT_MASK (PS_FAULT_NONE))
#define PS_FAULT_TRICKLE_BYTES 2048

typedef struct _PsFaultProxy PsFaultProxy;

PsFaultProxy *ps_fault_proxy_new              (guint16       upstream_port);
void          ps_fault_proxy_free             (PsFaultProxy *proxy);
guint16       ps_fault_proxy_get_port         (PsFaultProxy *proxy);
char         *ps_fault_proxy_url              (PsFaultProxy *proxy,
                                               const char   *path);
void          ps_fault_proxy_set_fault        (PsFaultProxy *proxy,
                                               PsFault       fault,
                                               guint         param,
                                               guint         count);
void          ps_fault_proxy_set_random       (PsFaultProxy *proxy,
                                               guint32       seed,
                                               double        probability,
                                               guint         faults_mask);
void          ps_fault_proxy_set_filter       (PsFaultProxy *proxy,
                                               const char   *request_line_part);
void          ps_fault_proxy_clear            (PsFaultProxy *proxy);
void          ps_fault_proxy_drop_connections (PsFaultProxy *proxy);
guint         ps_fault_proxy_get_injected     (PsFaultProxy *proxy,
                                               PsFault       fault);
guint         ps_fault_proxy_get_total_injected (PsFaultProxy *proxy);
guint         ps_fault_proxy_get_requests     (PsFaultProxy *proxy);
guint         ps_fault_proxy_get_connections  (PsFaultProxy *proxy);
void          ps_fault_proxy_set_link         (PsFaultProxy *proxy,
                                               guint         latency_ms,
                                               guint         bytes_per_second);
void          ps_fault_proxy_set_client_send_buffer (PsFaultProxy *proxy,
                                               guint         bytes);
void          ps_fault_proxy_get_bytes        (PsFaultProxy *proxy,
                                               guint64      *from_clients,
                                               guint64      *to_clients);
char         *ps_fault_proxy_describe         (PsFaultProxy *proxy);
const char   *ps_fault_get_name               (PsFault       fault);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsFaultProxy, ps_fault_proxy_free)

G_END_DECLS
