// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/fleet: the fleet's figures against a real 3-node NATS cluster with
 * JetStream on loopback (Debian's nats-server, started here, stopped after).
 *
 * For each fleet size N (default 100, 300, 1000):
 *  - N lightweight simulated hosts (a pool of 4 NATS connections; each host
 *    writes only under its own key, in the format lymphd writes) each
 *    report one binary of their own: the bucket holds N reports, which the
 *    observers receive;
 *  - OBS observers are real fleet links (userspace/fleet/fleet.c, what
 *    lymphd runs), K = 3: per trial, a fresh binary is reported by K - 1
 *    hosts, then by the K-th; the time from the K-th host's write to the
 *    vaccination decision on every observer, p50 and p99 over trials x
 *    observers;
 *  - messages and bytes per host per minute: calm (nothing dies: nothing
 *    is sent; counted over CALM seconds on a real link) and in a crash
 *    storm on one real link (200 danger deaths/s of 50 binaries for STORM
 *    seconds; what the per-host rate bucket lets through).
 * Messages per host do not depend on N (each host's rate is bounded); what
 * grows with N is what every observer receives: N reports per window.
 *
 *   bench/fleet [-n 100,300,1000] [-t TRIALS] [-s STORM_S]   (no root needed)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <nats/nats.h>
#include "bench.h"
#define TH_NO_HARNESS
#include "helpers.h"
#include "fleet.h"

#define NN 3
#define POOL 4
#define OBS 3
#define K 3

static char dir[256];
static int base;
static pid_t nats_pid[NN];

static void stop_all(void)
{
	char cmd[300];

	for (int i = 0; i < NN; i++)
		if (nats_pid[i] > 0) {
			kill(nats_pid[i], SIGKILL);
			waitpid(nats_pid[i], NULL, 0);
		}
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "bench/fleet: failed to remove %s\n", dir);
	}
}

static int start_cluster(void)
{
	for (int i = 0; i < NN; i++) {
		nats_pid[i] = th_nats_node(dir, "lymphbench", i, NN, base);
		if (nats_pid[i] < 0)
			return nats_pid[i];
	}
	return th_nats_ready(dir, nats_pid, NN, base, th_now_ms() + 30000) ? 0 : -ETIMEDOUT;
}

static void random_sha(char out[FLEET_SHA_LEN], unsigned int *seed)
{
	for (int i = 0; i < 64; i++)
		out[i] = "0123456789abcdef"[rand_r(seed) & 15];
	out[64] = 0;
}

static int put_report(kvStore *kv, const char *sha, const char *host, uint32_t count)
{
	struct fleet_report r = { .signo = 11, .count = count, .first_ms = 1, .last_ms = 2 };
	char key[160], *text;
	int err;

	snprintf(r.sha256, sizeof(r.sha256), "%s", sha);
	snprintf(r.host, sizeof(r.host), "%s", host);
	if (fleet_kv_key(key, sizeof(key), sha, host) || fleet_report_encode(&r, &text))
		return -EINVAL;
	err = kvStore_PutString(NULL, kv, key, text) == NATS_OK ? 0 : -EIO;
	free(text);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t counter(struct fleet *f, const char *name)
{
	struct json_object *o = fleet_json(f), *c, *v;
	int64_t n = -1;

	if (json_object_object_get_ex(o, "counters", &c) && json_object_object_get_ex(c, name, &v))
		n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

static void conf_for(struct fleet_conf *c, const char *fleet, const char *host)
{
	char url[64];

	fleet_conf_defaults(c);
	c->enabled = 1;
	for (int i = 0; i < NN; i++) {
		snprintf(url, sizeof(url), "nats://127.0.0.1:%d", base + i);
		c->servers[c->n_servers++] = strdup(url);
	}
	snprintf(c->name, sizeof(c->name), "%s", fleet);
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->k = K;
	c->window = 3600ULL * 1000000000ULL;
	c->replicas = 3;
}

static int wait_linked(struct fleet *f)
{
	for (int t = 0; t < 300; t++) {
		struct json_object *o = fleet_json(f), *v;
		int ok = json_object_object_get_ex(o, "ready", &v) && json_object_get_boolean(v);

		json_object_put(o);
		if (ok)
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

static int run_size(int n, int trials, int storm_s, int first)
{
	natsConnection *nc[POOL] = { 0 };
	jsCtx *js[POOL] = { 0 };
	kvStore *kv[POOL] = { 0 };
	struct fleet *obs[OBS] = { 0 };
	struct fleet_conf oc[OBS];
	uint64_t *lat = calloc((size_t)trials * OBS, sizeof(*lat)), t0;
	char fleet[64], host[64], sha[FLEET_SHA_LEN], url[64], name[128], value[64], bucket[80];
	unsigned int seed = (unsigned int)n * 7919u;
	size_t nlat = 0;
	int err = 0, i;

	snprintf(fleet, sizeof(fleet), "b%d_%d", n, getpid());
	snprintf(bucket, sizeof(bucket), "lymph_%s", fleet);
	for (i = 0; i < OBS; i++) {
		snprintf(host, sizeof(host), "obs%d", i);
		conf_for(&oc[i], fleet, host);
		if ((err = fleet_start(&obs[i], &oc[i])) || (err = wait_linked(obs[i]))) {
			struct json_object *o = obs[i] ? fleet_json(obs[i]) : NULL;

			fprintf(stderr, "bench/fleet: observer %d did not link: %s (%s)\n", i, strerror(-err),
				o ? json_object_to_json_string(o) : "");
			json_object_put(o);
			goto out;
		}
	}
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", base);
	for (i = 0; i < POOL; i++) {
		if (natsConnection_ConnectTo(&nc[i], url) != NATS_OK ||
		    natsConnection_JetStream(&js[i], nc[i], NULL) != NATS_OK ||
		    js_KeyValue(&kv[i], js[i], bucket) != NATS_OK) {
			fprintf(stderr, "bench/fleet: failed to open the bucket %s: %s\n", bucket,
				nats_GetLastError(NULL));
			err = -EIO;
			goto out;
		}
	}
	/* N hosts, one report each, of binaries of their own. */
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "sim%d", i);
		random_sha(sha, &seed);
		if (put_report(kv[i % POOL], sha, host, 1)) {
			err = -EIO;
			goto out;
		}
	}
	for (int t = 0; t < 600 && counter(obs[OBS - 1], "entries_received") < n; t++)
		usleep(50000);
	printf("# N=%d: %d reports written in %.2f s; observer received %lld\n", n, n,
	       (double)(bench_now_ns() - t0) / 1e9, (long long)counter(obs[OBS - 1], "entries_received"));

	for (int t = 0; t < trials; t++) {
		struct fleet_event ev;
		int done[OBS] = { 0 }, left = OBS;

		random_sha(sha, &seed);
		for (i = 0; i < K - 1; i++) {
			snprintf(host, sizeof(host), "sim%d", (t * K + i) % n);
			put_report(kv[i % POOL], sha, host, 3);
		}
		usleep(300000);
		for (i = 0; i < OBS; i++)
			while (fleet_pop(obs[i], &ev))
				;	/* earlier trials' leftovers */
		snprintf(host, sizeof(host), "sim%d", (t * K + K - 1) % n);
		t0 = bench_now_ns();
		put_report(kv[0], sha, host, 3);
		while (left && bench_now_ns() - t0 < 30000000000ULL) {
			for (i = 0; i < OBS; i++)
				while (!done[i] && fleet_pop(obs[i], &ev))
					if (ev.kind == FLEET_VACCINATE && !strcmp(ev.sha256, sha)) {
						done[i] = 1;
						left--;
						lat[nlat++] = bench_now_ns() - t0;
					}
			usleep(1000);
		}
		if (left)
			printf("# N=%d trial %d: %d observer(s) not vaccinated within 30 s\n", n, t, left);
	}
	if (nlat) {
		qsort(lat, nlat, sizeof(*lat), cmp_u64);
		snprintf(name, sizeof(name), "fleet: K-th host's report to vaccination, p50 (N=%d)", n);
		snprintf(value, sizeof(value), "%.0f ms", lat[nlat / 2] / 1e6);
		bench_figure(name, value, "-", "-");
		snprintf(name, sizeof(name), "fleet: K-th host's report to vaccination, p99 (N=%d)", n);
		snprintf(value, sizeof(value), "%.0f ms", lat[(nlat * 99) / 100 >= nlat ? nlat - 1 : (nlat * 99) / 100] / 1e6);
		bench_figure(name, value, "-", "-");
	}

	if (first) {
		/* Calm and storm on one real link. */
		struct fleet *h = NULL;
		struct fleet_conf hc;
		char path[512];
		struct stat st[50];
		int64_t m0, b0;
		uint64_t s0;

		conf_for(&hc, fleet, "stormy");
		if (!fleet_start(&h, &hc) && !wait_linked(h)) {
			m0 = counter(h, "batches_sent") + counter(h, "reports_sent");
			b0 = counter(h, "bytes_sent");
			sleep(5);
			snprintf(value, sizeof(value), "%lld msgs, %lld B",
				 (long long)(counter(h, "batches_sent") + counter(h, "reports_sent") - m0) * 12,
				 (long long)(counter(h, "bytes_sent") - b0) * 12);
			bench_figure("fleet: per host per minute, calm", value, "-", "-");
			for (i = 0; i < 50; i++) {
				int fd;

				snprintf(path, sizeof(path), "%s/bin%d", dir, i);
				fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
				if (fd >= 0) {
					dprintf(fd, "binary %d\n", i);
					close(fd);
				}
				stat(path, &st[i]);
			}
			m0 = counter(h, "batches_sent") + counter(h, "reports_sent");
			b0 = counter(h, "bytes_sent");
			s0 = bench_now_ns();
			for (int t = 0; t < storm_s * 200; t++) {
				snprintf(path, sizeof(path), "%s/bin%d", dir, t % 50);
				fleet_danger(h, (uint32_t)st[t % 50].st_dev, st[t % 50].st_ino, path, 11, 0x1000);
				usleep(5000);
			}
			sleep(1);
			{
				double mins = (double)(bench_now_ns() - s0) / 60e9;

				snprintf(value, sizeof(value), "%.0f msgs, %.0f B",
					 (double)(counter(h, "batches_sent") + counter(h, "reports_sent") - m0) / mins,
					 (double)(counter(h, "bytes_sent") - b0) / mins);
				bench_figure("fleet: per host per minute, storm of 12,000 danger deaths/min", value,
					     "<= (burst + rate x 60) msgs", "-");
				printf("# storm: rate drops %lld, queue drops %lld (counted, never silent)\n",
				       (long long)counter(h, "rate_drops"), (long long)counter(h, "queue_drops"));
			}
		}
		fleet_stop(h);
		fleet_conf_free(&hc);
	}
out:
	for (i = 0; i < POOL; i++) {
		if (kv[i])
			kvStore_Destroy(kv[i]);
		if (js[i])
			jsCtx_Destroy(js[i]);
		if (nc[i])
			natsConnection_Destroy(nc[i]);
	}
	for (i = 0; i < OBS; i++) {
		fleet_stop(obs[i]);
		if (obs[i] || err)
			fleet_conf_free(&oc[i]);
	}
	free(lat);
	return err;
}

int main(int argc, char **argv)
{
	char sizes[128] = "100,300,1000", *tok, *save = NULL;
	int trials = 20, storm = 10, c, first = 1, err = 0;

	while ((c = getopt(argc, argv, "n:t:s:")) != -1) {
		switch (c) {
		case 'n': snprintf(sizes, sizeof(sizes), "%s", optarg); break;
		case 't': trials = atoi(optarg); break;
		case 's': storm = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench/fleet [-n 100,300,1000] [-t TRIALS] [-s STORM_S]\n");
			return 2;
		}
	}
	if (trials < 1 || storm < 1) {
		fprintf(stderr, "bench/fleet: -t and -s take a positive number\n");
		return 2;
	}
	if (access("/usr/sbin/nats-server", X_OK)) {
		fprintf(stderr, "bench/fleet: nats-server is not installed: run scripts/deps.sh\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/lymph-bench-fleet.XXXXXX");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench/fleet: failed to create a directory: %s\n", strerror(errno));
		return 1;
	}
	base = 26000 + (getpid() % 500) * 20;
	atexit(stop_all);
	if (start_cluster()) {
		fprintf(stderr, "bench/fleet: the 3-node cluster did not come up; see %s/n*.log\n", dir);
		return 1;
	}
	printf("# 3-node NATS cluster (JetStream, R3) on loopback, %d observers (real fleet links), K=%d\n",
	       OBS, K);
	for (tok = strtok_r(sizes, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		err = run_size(atoi(tok), trials, storm, first);
		first = 0;
	}
	return err ? 1 : 0;
}
