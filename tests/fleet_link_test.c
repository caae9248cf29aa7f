// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet link (userspace/fleet/fleet.c) against a real nats-server with
 * JetStream on loopback, without lymphd: three links in one process play
 * hosts a, b and c.
 *
 *   - a link to a server that is not there starts and says "connecting";
 *     it links when the server comes up;
 *   - danger deaths of one binary on a alone: c sees one host, nothing
 *     more; on a and b (K = 2): c gets a vaccination naming the file here;
 *   - garbage written into the bucket (bad JSON, a report under another
 *     host's key, a key that is not <sha256>.<host>) is counted as
 *     malformed and dropped, and the link goes on working;
 *   - the stream holds a's signatures (identity, signal, fault page offset,
 *     counts: every death) and a decision told through the journal's tap,
 *     never a field the journal record had beside them (a command line);
 *   - a crash storm on one host sends a bounded number of batches.
 */
/* the harness compares its int literals with our unsigned fields */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <nats/nats.h>
#include "helpers.h"
#include "kselftest_harness.h"
#include "fleet.h"

FIXTURE(link)
{
	char dir[256];
	int port;
	pid_t nats;
	struct fleet *f[3];
	struct fleet_conf conf[3];
	char bin[PATH_MAX];
	struct stat st;
};

static int start_nats(FIXTURE_DATA(link) * self)
{
	char sd[PATH_MAX], port[16], log[PATH_MAX];

	snprintf(sd, sizeof(sd), "%s/js", self->dir);
	snprintf(log, sizeof(log), "%s/nats.log", self->dir);
	snprintf(port, sizeof(port), "%d", self->port);
	self->nats = fork();
	if (self->nats < 0)
		return -errno;
	if (!self->nats) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/sbin/nats-server", "nats-server", "-a", "127.0.0.1", "-p", port, "-js",
		      "-sd", sd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !th_port_open(self->port); i++)
		th_sleep_ms(100);
	return th_port_open(self->port) ? 0 : -ETIMEDOUT;
}

static const char *jlink(struct fleet *f, char *buf, size_t len)
{
	struct json_object *o = fleet_json(f);

	snprintf(buf, len, "%s", th_json_str(o, "link"));
	if (strcmp(buf, "connected") == 0 && !th_json_bool(o, "ready"))
		snprintf(buf, len, "not-ready");
	json_object_put(o);
	return buf;
}

static int64_t counter(struct fleet *f, const char *name)
{
	struct json_object *o = fleet_json(f), *c;
	int64_t v = -1;

	if (json_object_object_get_ex(o, "counters", &c))
		v = th_json_int(c, name);
	json_object_put(o);
	return v;
}

/* True once the counter reached at least want, within 10 s. */
static bool wait_counter(struct fleet *f, const char *name, int64_t want)
{
	int64_t deadline = th_now_ms() + 10000;

	while (th_now_ms() < deadline && counter(f, name) < want)
		th_sleep_ms(100);
	return counter(f, name) >= want;
}

static int distinct(struct fleet *f)
{
	struct json_object *o = fleet_json(f), *arr;
	int n = 0;

	if (json_object_object_get_ex(o, "binaries", &arr) && json_object_array_length(arr))
		n = (int)th_json_int(json_object_array_get_idx(arr, 0), "distinct_hosts");
	json_object_put(o);
	return n;
}

static bool wait_linked(struct fleet *f, int ms)
{
	char buf[32];
	int64_t deadline = th_now_ms() + ms;

	while (th_now_ms() < deadline) {
		if (!strcmp(jlink(f, buf, sizeof(buf)), "connected"))
			return true;
		th_sleep_ms(100);
	}
	return false;
}

FIXTURE_SETUP(link)
{
	char url[64];

	self->nats = -1;
	if (access("/usr/sbin/nats-server", X_OK))
		SKIP(return, "nats-server is not installed: run scripts/deps.sh");
	ASSERT_EQ(0, th_mkdtemp(self->dir, sizeof(self->dir), "fleetlink"));
	self->port = 30000 + (getpid() % 1000) * 3;
	snprintf(self->bin, sizeof(self->bin), "%s/victim", self->dir);
	ASSERT_EQ(0, th_copy_file("/bin/true", self->bin, 0755));
	ASSERT_EQ(0, stat(self->bin, &self->st));
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", self->port);
	for (int i = 0; i < 3; i++) {
		fleet_conf_defaults(&self->conf[i]);
		self->conf[i].enabled = 1;
		self->conf[i].servers[0] = strdup(url);
		self->conf[i].n_servers = 1;
		snprintf(self->conf[i].name, FLEET_NAME_MAX, "t%d", getpid());
		snprintf(self->conf[i].host, FLEET_NAME_MAX, "%c", 'a' + i);
		self->conf[i].k = 2;
		self->conf[i].window = 600ULL * 1000000000ULL;
	}
}

FIXTURE_TEARDOWN(link)
{
	for (int i = 0; i < 3; i++) {
		fleet_stop(self->f[i]);
		fleet_conf_free(&self->conf[i]);
	}
	if (self->nats > 0) {
		kill(self->nats, SIGKILL);
		waitpid(self->nats, NULL, 0);
	}
	th_rmdir_flat(self->dir);
}

static void die(struct fleet *f, FIXTURE_DATA(link) * self)
{
	fleet_danger(f, (uint32_t)self->st.st_dev, self->st.st_ino, self->bin, 11,
		     0x7f0000001234ULL);
}

TEST_F_TIMEOUT(link, vaccination_and_garbage, 120)
{
	struct fleet_event ev;
	char buf[32], url[64], bucket[64], key[160];
	int64_t deadline, before, sent0, s0, sent;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	bool got = false;
	double secs;
	struct json_object *rec;
	struct fleet_batch *batch = calloc(1, sizeof(*batch));
	char stream[64];
	uint64_t deaths = 0, decisions = 0;

	/* No server yet: the start succeeds (the connection is the thread's
	 * business), the link says it is connecting. */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, fleet_start(&self->f[i], &self->conf[i]));
	th_sleep_ms(300);
	EXPECT_STREQ("connecting", jlink(self->f[2], buf, sizeof(buf)));
	ASSERT_EQ(0, start_nats(self));
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(wait_linked(self->f[i], 20000));

	/* One host alone, however often. */
	for (int i = 0; i < 50; i++)
		die(self->f[0], self);
	deadline = th_now_ms() + 10000;
	while (th_now_ms() < deadline && distinct(self->f[2]) < 1)
		th_sleep_ms(100);
	ASSERT_EQ(1, distinct(self->f[2]));
	th_sleep_ms(1000);
	EXPECT_EQ(0, fleet_pop(self->f[2], &ev));
	EXPECT_EQ(0, counter(self->f[2], "vaccinations"));

	/* A second host: c is vaccinated, against the file here. */
	die(self->f[1], self);
	deadline = th_now_ms() + 15000;
	while (th_now_ms() < deadline && !got) {
		got = fleet_pop(self->f[2], &ev);
		if (!got)
			th_sleep_ms(100);
	}
	ASSERT_TRUE(got);
	EXPECT_EQ(FLEET_VACCINATE, ev.kind);
	EXPECT_EQ(self->st.st_ino, ev.ino);
	EXPECT_STREQ(self->bin, ev.path);
	EXPECT_EQ(2, ev.hosts);
	EXPECT_NE(NULL, strstr(ev.host_list, "a"));
	EXPECT_TRUE(fleet_sha_valid(ev.sha256));

	/* Garbage in the bucket, written by a client of the test's own. */
	before = counter(self->f[2], "malformed_dropped");
	if (before >= 0) {
		snprintf(url, sizeof(url), "nats://127.0.0.1:%d", self->port);
		snprintf(bucket, sizeof(bucket), "lymph_t%d", getpid());
		ASSERT_EQ(NATS_OK, natsConnection_ConnectTo(&nc, url));
		ASSERT_EQ(NATS_OK, natsConnection_JetStream(&js, nc, NULL));
		ASSERT_EQ(NATS_OK, js_KeyValue(&kv, js, bucket));
		snprintf(key, sizeof(key), "%s.zz", ev.sha256);
		/* One at a time: the bucket keeps one value per key, so a
		 * second write under the same key can remove the first
		 * before the server delivered it to the watchers (KV
		 * semantics: only the latest value is owed).  CI saw 2 of 3. */
		EXPECT_EQ(NATS_OK, kvStore_PutString(NULL, kv, key, "{not json"));
		EXPECT_TRUE(wait_counter(self->f[2], "malformed_dropped", before + 1));
		/* a well-formed report of host a, under host zz's key */
		EXPECT_EQ(
			NATS_OK,
			kvStore_PutString(
				NULL, kv, key,
				"{\"v\":1,\"host\":\"a\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"build_id\":\"\",\"path\":\"\",\"signal\":11,\"count\":1,\"first_ms\":1,\"last_ms\":2}"));
		EXPECT_TRUE(wait_counter(self->f[2], "malformed_dropped", before + 2));
		EXPECT_EQ(NATS_OK, kvStore_PutString(NULL, kv, "not-a-sha.zz", "{}"));
		EXPECT_TRUE(wait_counter(self->f[2], "malformed_dropped", before + 3));
		EXPECT_EQ(before + 3, counter(self->f[2], "malformed_dropped"));
		EXPECT_EQ(2, distinct(self->f[2])); /* zz did not become a host */
		/* The stream: a's signatures and a decision told through the tap;
		 * the decision's intent, told first, is not shared (one decision). */
		rec = json_object_new_object();
		json_object_object_add(rec, "type", json_object_new_string("quarantine"));
		json_object_object_add(rec, "action", json_object_new_string("intent"));
		json_object_object_add(rec, "exe", json_object_new_string(self->bin));
		json_object_object_add(rec, "exe_dev",
				       json_object_new_int64((int64_t)self->st.st_dev));
		json_object_object_add(rec, "exe_ino",
				       json_object_new_int64((int64_t)self->st.st_ino));
		fleet_journal_tap(self->f[0], rec);
		json_object_put(rec);
		rec = json_object_new_object();
		json_object_object_add(rec, "type", json_object_new_string("quarantine"));
		json_object_object_add(rec, "action", json_object_new_string("would-quarantine"));
		json_object_object_add(rec, "exe", json_object_new_string(self->bin));
		json_object_object_add(rec, "exe_dev",
				       json_object_new_int64((int64_t)self->st.st_dev));
		json_object_object_add(rec, "exe_ino",
				       json_object_new_int64((int64_t)self->st.st_ino));
		json_object_object_add(rec, "cmdline",
				       json_object_new_string("secret --password=x"));
		fleet_journal_tap(self->f[0], rec);
		json_object_put(rec);
		snprintf(stream, sizeof(stream), "LYMPH_t%d", getpid());
		deadline = th_now_ms() + 10000;
		while (th_now_ms() < deadline && !(deaths && decisions)) {
			jsStreamInfo *si = NULL;
			uint64_t last = 0;

			th_sleep_ms(200);
			if (js_GetStreamInfo(&si, js, stream, NULL, NULL) == NATS_OK) {
				last = si->State.LastSeq;
				jsStreamInfo_Destroy(si);
			}
			deaths = decisions = 0;
			for (uint64_t seq = 1; seq <= last; seq++) {
				natsMsg *m = NULL;

				if (js_GetMsg(&m, js, stream, seq, NULL, NULL) != NATS_OK)
					continue;
				EXPECT_EQ(NULL, strstr(natsMsg_GetData(m), "secret"));
				if (!fleet_batch_decode(natsMsg_GetData(m),
							(size_t)natsMsg_GetDataLength(m), batch) &&
				    !strcmp(batch->host, "a")) {
					for (size_t i = 0; i < batch->n_deaths; i++)
						if (!strcmp(batch->deaths[i].sha256, ev.sha256) &&
						    batch->deaths[i].signo == 11 &&
						    batch->deaths[i].fault_page_off == 0x234)
							deaths += batch->deaths[i].count;
					for (size_t i = 0; i < batch->n_decisions; i++)
						decisions += !strcmp(batch->decisions[i].type,
								     "quarantine") &&
							     !strcmp(batch->decisions[i].sha256,
								     ev.sha256);
				}
				natsMsg_Destroy(m);
			}
		}
		EXPECT_EQ(50, deaths);
		EXPECT_EQ(1, decisions);
		kvStore_Destroy(kv);
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
	}

	/* A storm on host a: 5000 deaths, a bounded number of messages
	 * (burst 20 + rate 5/s over the few seconds it lasts). */
	sent0 = counter(self->f[0], "batches_sent") + counter(self->f[0], "reports_sent");
	s0 = th_now_ms();
	if (sent0 >= 0) {
		for (int i = 0; i < 5000; i++) {
			die(self->f[0], self);
			if (i % 500 == 0)
				th_sleep_ms(100);
		}
		th_sleep_ms(1500);
		secs = (double)(th_now_ms() - s0) / 1e3;
		sent = counter(self->f[0], "batches_sent") + counter(self->f[0], "reports_sent") -
		       sent0;
		th_diag("storm: %lld messages in %.1f s, queue drops %lld", (long long)sent, secs,
			(long long)counter(self->f[0], "queue_drops"));
		EXPECT_LE(sent, 20 + (int64_t)(5 * secs) + 1);
		EXPECT_GE(sent, 1);
	}
	EXPECT_STREQ("connected", jlink(self->f[2], buf, sizeof(buf)));
	free(batch);
}

/* A short window: the vaccination fades when the reports age out; a
 * release here holds until then. */
TEST_F_TIMEOUT(link, fade_and_release, 60)
{
	struct fleet_event ev;
	struct json_object *o, *arr;
	int64_t deadline;
	bool vacc = false, fade = false;

	for (int i = 0; i < 3; i++) {
		self->conf[i].window = 3ULL * 1000000000ULL;
		ASSERT_EQ(0, fleet_start(&self->f[i], &self->conf[i]));
	}
	ASSERT_EQ(0, start_nats(self));
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(wait_linked(self->f[i], 20000));
	die(self->f[0], self);
	die(self->f[1], self);
	deadline = th_now_ms() + 15000;
	while (th_now_ms() < deadline && !vacc) {
		while (fleet_pop(self->f[2], &ev))
			vacc |= ev.kind == FLEET_VACCINATE;
		th_sleep_ms(50);
	}
	ASSERT_TRUE(vacc);
	/* Released on c: marked so, and no second vaccination. */
	EXPECT_EQ(0, fleet_release(self->f[2], ev.sha256));
	EXPECT_EQ(-ENOENT, fleet_release(self->f[2], ev.sha256));
	o = fleet_json(self->f[2]);
	ASSERT_TRUE(json_object_object_get_ex(o, "binaries", &arr));
	EXPECT_EQ(1, th_json_bool(json_object_array_get_idx(arr, 0), "released"));
	json_object_put(o);
	/* No more deaths: within the window plus an evaluation, it fades. */
	deadline = th_now_ms() + 10000;
	while (th_now_ms() < deadline && !fade) {
		while (fleet_pop(self->f[2], &ev)) {
			EXPECT_NE(FLEET_VACCINATE, ev.kind);
			fade |= ev.kind == FLEET_FADE;
		}
		th_sleep_ms(50);
	}
	EXPECT_TRUE(fade);
	EXPECT_EQ(1, counter(self->f[2], "fades"));
}

TEST_HARNESS_MAIN
