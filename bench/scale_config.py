#!/usr/bin/env python3
"""Writes the configs of bench/scale.sh: leeway's (10 checks per loopback host: 7 http on distinct
paths, 4 of them over https, 2 tcp, 1 icmp), nginx's (a plain and a TLS port on every host's
address) and Prometheus' (one blackbox probe per host, the first https check's URL). Hosts are
127.1.x.y, 250 per /24. The TLS certificate (DIR/leaf.pem, one P-256 key with every host's address
as a subjectAltName) and its CA (DIR/ca.pem, trusted through ca_file on both sides) are made by
scale.sh.

Usage: scale_config.py DIR HOSTS TARGET_PORT API_PORT BLACKBOX_PORT TLS_PORT
MIX=plain in the environment: the mix before issue 13 (7 http, 2 tcp, 1 icmp per host; blackbox
probes the first http check's URL), to compare with the figures measured before it.
Writes DIR/leeway.yaml, DIR/nginx.conf, DIR/prometheus.yml, DIR/blackbox.yml, DIR/leaf.ext.
"""
import os
import sys

PLAIN = os.environ.get("MIX", "https") == "plain"
HTTP_PER_HOST, HTTPS_PER_HOST, TCP_PER_HOST, ICMP_PER_HOST = (7, 0, 2, 1) if PLAIN else (3, 4, 2, 1)


def host(i):
    return f"127.1.{i // 250}.{i % 250 + 1}"


def main():
    out, hosts, port, api_port, bb_port, tls_port = (sys.argv[1], int(sys.argv[2]),
                                                     *map(int, sys.argv[3:7]))

    lines = [
        "server:",
        f"  listen: 127.0.0.1:{api_port}",
        f"  store: {out}/leeway.db",
        "defaults:",
        "  interval: 10s",
        "  timeout: 5s",
        "services:",
    ]
    for i in range(hosts):
        h = host(i)
        lines += [f"  - id: svc{i}", "    checks:"]
        for k in range(HTTP_PER_HOST):
            lines += [f"      - name: http{k}", f"        target: http://{h}:{port}/svc{i}/p{k}"]
        for k in range(HTTPS_PER_HOST):
            lines += [f"      - name: https{k}",
                      f"        target: https://{h}:{tls_port}/svc{i}/s{k}",
                      f"        ca_file: {out}/ca.pem"]
        for k in range(TCP_PER_HOST):
            lines += [f"      - name: tcp{k}", f"        target: tcp://{h}:{port}"]
        for k in range(ICMP_PER_HOST):
            lines += [f"      - name: icmp{k}", f"        target: icmp://{h}"]
    with open(f"{out}/leeway.yaml", "w") as f:
        f.write("\n".join(lines) + "\n")

    # One listen per address keeps nginx on loopback only (a wildcard would face the network).
    listens = "\n".join(f"    listen {host(i)}:{port};" for i in range(hosts))
    tls_listens = "\n".join(f"    listen {host(i)}:{tls_port} ssl;" for i in range(hosts))
    with open(f"{out}/nginx.conf", "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {out}/nginx.pid;
error_log {out}/nginx-error.log;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_timeout 0;
  server {{
{listens}
    location / {{ return 200 "ok\\n"; }}
  }}
  server {{
{tls_listens}
    ssl_certificate {out}/leaf.pem;
    ssl_certificate_key {out}/leaf.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
""")

    sans = ",".join(f"IP:{host(i)}" for i in range(hosts))
    with open(f"{out}/leaf.ext", "w") as f:
        f.write(f"subjectAltName={sans}\n")

    targets = "\n".join(
        f"          - http://{host(i)}:{port}/svc{i}/p0" if PLAIN else
        f"          - https://{host(i)}:{tls_port}/svc{i}/s0" for i in range(hosts))
    with open(f"{out}/prometheus.yml", "w") as f:
        f.write(f"""global:
  scrape_interval: 10s
  scrape_timeout: 5s
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [{"http_2xx" if PLAIN else "https_2xx"}]
    static_configs:
      - targets:
{targets}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:{bb_port}
""")

    with open(f"{out}/blackbox.yml", "w") as f:
        f.write(f"""modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
  https_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
      tls_config:
        ca_file: {out}/ca.pem
""")


if __name__ == "__main__":
    main()
