// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet link (fleet.h): one thread that owns the NATS connection, the
 * JetStream stream and key-value bucket, the binaries' identities and the
 * fleet's immune memory.  The event loop talks to it through two bounded
 * queues under one mutex and an eventfd.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <nats/nats.h>
#include "clock.h"
#include "fleet.h"
#include "fleet_msg.h"
#include "sha256.h"

#define INQ_MAX		 1024 /* deaths and decisions waiting for the thread */
#define OUTQ_MAX	 256  /* decisions waiting for the loop */
#define IDCACHE_MAX	 1024 /* binaries hashed */
#define LOCAL_MAX	 1024 /* binaries this host reports */
#define HASH_MAX_BYTES	 (1ULL << 30)
#define BATCH_PERIOD_MS	 250  /* a batch waits at most this long */
#define REPORT_PERIOD_MS 2000 /* a binary's KV report is rewritten at most this often */
#define EVAL_PERIOD_MS	 250
#define REWATCH_MS	 10000 /* after a reconnection: a second watch once the cluster settled */
/*
 * ms a JetStream API call (stream, bucket, the watch's consumer) may take:
 * libnats' own default.  Creating the watch's consumer on a replicated
 * bucket takes a round of the cluster's consensus.  With 2 s, one CI run on
 * a loaded host saw no host's watch succeed for a minute, each timing out
 * ("Timeout", sub.c) and set up again.  lymphd's stop waits at most this
 * long for a call under way.
 */
#define JS_WAIT_MS	 5000
#define PUB_WAIT_MS	 2000 /* a batch's publish: the batch is kept and sent again */

/*
 * libnats is loaded with dlopen() when a [fleet] section starts the link:
 * linked, it and the libssl and libcrypto it needs cost every lymphd ~1.8
 * MiB of VmRSS, fleet or not.  NATS_FNS lists every libnats call lymphd
 * makes; they are called as nats.<name>(...).
 */
#define NATS_LIB "libnats.so.3.4"
#define NATS_FNS(X)                                                                                                   \
	X(nats_Sleep)                                                                                                 \
	X(nats_GetLastError) X(natsOptions_Destroy) X(natsConnection_Status) X(natsConnection_GetConnectedUrl) X(     \
		kvWatcher_Destroy) X(natsStatus_GetText) X(natsOptions_SetUserCredentialsFromFiles)                   \
		X(natsOptions_SetTimeout) X(natsOptions_SetServers) X(natsOptions_SetSecure) X(                       \
			natsOptions_SetRetryOnFailedConnect) X(natsOptions_SetReconnectedCB)                          \
			X(natsOptions_SetReconnectWait) X(natsOptions_SetReconnectJitter) X(                          \
				natsOptions_SetName) X(natsOptions_SetMaxReconnect) X(natsOptions_SetDisconnectedCB)  \
				X(natsOptions_SetClosedCB) X(natsOptions_LoadCertificatesChain) X(                    \
					natsOptions_LoadCATrustedCertificates) X(natsOptions_Create)                  \
					X(natsConnection_JetStream) X(natsConnection_Destroy) X(                      \
						natsConnection_Connect) X(natsConnection_Close) X(kvWatcher_Next)     \
						X(kvStore_WatchAll) X(kvStore_PutString) X(                           \
							kvStore_Destroy) X(kvEntry_ValueLen) X(kvEntry_Value)         \
							X(kvEntry_Operation) X(kvEntry_Key) X(                        \
								kvEntry_Destroy) X(kvEntry_Created)                   \
								X(kvConfig_Init) X(js_Publish) X(                     \
									js_KeyValue) X(js_GetStreamInfo)              \
									X(js_CreateKeyValue) X(                       \
										js_AddStream) X(jsStreamInfo_Destroy) \
										X(jsStreamConfig_Init) X(             \
											jsPubOptions_Init)            \
											X(jsOptions_Init)             \
												X(jsCtx_Destroy)

static struct {
	int tried, ok;
#define NATS_PTR(fn) __typeof__(fn) *fn;
	NATS_FNS(NATS_PTR)
#undef NATS_PTR
} nats;

/* 0, or -ELIBACC with the reason in why. */
static int nats_load(char *why, size_t len)
{
	void *h;

	if (nats.tried)
		goto out;
	nats.tried = 1;
	h = dlopen(NATS_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "%s", dlerror());
		return -ELIBACC;
	}
	nats.ok = 1;
#define NATS_SYM(fn)                               \
	if (!(*(void **)&nats.fn = dlsym(h, #fn))) \
		nats.ok = 0;
	NATS_FNS(NATS_SYM)
#undef NATS_SYM
	if (!nats.ok)
		dlclose(h); /* h stays open for the life of the process otherwise */
out:
	if (!nats.ok)
		snprintf(why, len, "%s lacks a function lymphd calls (another version?)", NATS_LIB);
	return nats.ok ? 0 : -ELIBACC;
}

enum link_state {
	LINK_CONNECTING,
	LINK_CONNECTED,
	LINK_RECONNECTING,
	LINK_CLOSED
};

struct inq_item {
	int decision;
	uint32_t dev, signo;
	uint64_t ino, fault_addr;
	char path[FLEET_PATH_LEN];
	char type[16], action[24];
};

struct idcache {
	uint32_t dev;
	uint64_t ino, size;
	int64_t mtime_ns;
	char sha256[FLEET_SHA_LEN];
	char build_id[FLEET_BUILDID_LEN];
	char path[FLEET_PATH_LEN];
	int vaccinated_sent; /* a FLEET_VACCINATE went to the loop for this inode */
};

struct local_report {
	struct fleet_report r;
	uint64_t put_ms; /* last written to the bucket (0: never) */
	int dirty;
};

struct fleet {
	/* configuration, owned */
	struct fleet_conf c;
	char host[FLEET_NAME_MAX];
	char subject[160], stream[96], bucket[96];
	uint64_t window_ms;

	pthread_t thr;
	int started;
	atomic_int stop;
	int evfd;

	pthread_mutex_t mu; /* guards everything below up to "thread only" */
	struct inq_item *inq;
	size_t n_inq;
	struct fleet_event *outq;
	size_t n_outq;
	char url[256];
	char last_error[256];
	struct fleet_memory mem; /* written by the thread under mu, read by fleet_json */
	uint64_t c_deaths_in, c_queue_drops, c_rate_drops, c_batches, c_batch_errors;
	uint64_t c_reports, c_report_errors, c_bad_msgs, c_entries, c_vaccinations, c_fades;
	uint64_t c_reconnects, c_hash_errors, c_outq_drops, c_bytes_sent;
	atomic_int link;
	atomic_int reconnected; /* set by libnats' thread: watch again */
	uint64_t connected_since_ms;

	/* thread only */
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	kvWatcher *w;
	int ready; /* stream and bucket exist */
	uint64_t next_setup_ms;
	uint64_t rewatch_ms; /* watch once more then (0: no) */
	struct idcache *ids;
	size_t n_ids, next_id;
	struct local_report *local;
	size_t n_local;
	struct fleet_batch *batch;
	uint64_t batch_since_ms;
	uint32_t batch_dropped;
	struct fleet_bucket bucket_tb;
	uint64_t next_eval_ms;
};

static uint64_t wall_ms(void)
{
	return clock_wall_ns() / NSEC_PER_MSEC;
}

static void set_error(struct fleet *f, const char *what, natsStatus s)
{
	pthread_mutex_lock(&f->mu);
	snprintf(f->last_error, sizeof(f->last_error), "%s: %s (%s)", what,
		 nats.natsStatus_GetText(s),
		 nats.nats_GetLastError(NULL) ? nats.nats_GetLastError(NULL) : "");
	pthread_mutex_unlock(&f->mu);
}

/* ---- identity ------------------------------------------------------------ */

/* The GNU build-id note of a 64-bit ELF file, "" when it has none. */
static void elf_build_id(int fd, char out[FLEET_BUILDID_LEN])
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned char note[4096];
	int i;

	out[0] = 0;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph) || eh.e_phnum > 256)
		return;
	for (i = 0; i < eh.e_phnum; i++) {
		size_t off = 0, len;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
			    sizeof(ph) ||
		    ph.p_type != PT_NOTE)
			continue;
		len = ph.p_filesz < sizeof(note) ? ph.p_filesz : sizeof(note);
		if (pread(fd, note, len, (off_t)ph.p_offset) != (ssize_t)len)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= len) {
			Elf64_Nhdr nh;
			size_t name_off, desc_off;

			memcpy(&nh, note + off, sizeof(nh));
			name_off = off + sizeof(nh);
			desc_off = name_off + ((nh.n_namesz + 3) & ~3u);
			if (desc_off + nh.n_descsz > len)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp(note + name_off, "GNU", 4) && nh.n_descsz &&
			    nh.n_descsz <= 64) {
				lymph_hex(out, note + desc_off, nh.n_descsz);
				return;
			}
			off = desc_off + ((nh.n_descsz + 3) & ~3u);
		}
	}
}

int fleet_identity(int fd, char sha256[FLEET_SHA_LEN], char build_id[FLEET_BUILDID_LEN])
{
	unsigned char buf[65536], md[LYMPH_SHA256_LEN];
	uint64_t total = 0;
	struct lymph_sha256 ctx;
	ssize_t n;
	off_t off = 0;
	int err = 0;

	err = lymph_sha256_init(&ctx);
	if (err)
		return err;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		total += (uint64_t)n;
		if (total > HASH_MAX_BYTES) {
			err = -EFBIG;
			break;
		}
		lymph_sha256_update(&ctx, buf, (size_t)n);
	}
	if (n < 0)
		err = -errno;
	if (err) {
		lymph_sha256_abort(&ctx);
		return err;
	}
	err = lymph_sha256_final(&ctx, md);
	if (err)
		return err;
	lymph_hex(sha256, md, sizeof(md));
	elf_build_id(fd, build_id);
	return 0;
}

/* The identity of the binary (dev, ino) at path, hashed once per version. */
static struct idcache *identify(struct fleet *f, uint32_t dev, uint64_t ino, const char *path)
{
	struct idcache *c = NULL;
	struct stat st;
	size_t i;
	int fd, err;

	if (!path || path[0] != '/')
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (dev && (uint32_t)st.st_dev != dev) ||
	    (ino && st.st_ino != ino)) {
		close(fd);
		return NULL; /* replaced since: not the binary that died */
	}
	for (i = 0; i < f->n_ids; i++) {
		struct idcache *x = &f->ids[i];

		if (x->dev == (uint32_t)st.st_dev && x->ino == st.st_ino &&
		    x->size == (uint64_t)st.st_size &&
		    x->mtime_ns == (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) {
			close(fd);
			return x;
		}
	}
	if (f->n_ids < IDCACHE_MAX) {
		c = &f->ids[f->n_ids++];
	} else {
		c = &f->ids[f->next_id];
		f->next_id = (f->next_id + 1) % IDCACHE_MAX;
	}
	memset(c, 0, sizeof(*c));
	err = fleet_identity(fd, c->sha256, c->build_id);
	close(fd);
	if (err) {
		pthread_mutex_lock(&f->mu);
		f->c_hash_errors++;
		pthread_mutex_unlock(&f->mu);
		c->dev = 0;
		c->ino = 0;
		c->sha256[0] = 0;
		return NULL;
	}
	c->dev = (uint32_t)st.st_dev;
	c->ino = st.st_ino;
	c->size = (uint64_t)st.st_size;
	c->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return c;
}

/* ---- queues --------------------------------------------------------------- */

static void wake_loop(struct fleet *f)
{
	uint64_t one = 1;

	if (write(f->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "lymphd: failed to wake the loop for the fleet: %s\n",
			strerror(errno));
}

static void push_event(struct fleet *f, const struct fleet_event *ev)
{
	pthread_mutex_lock(&f->mu);
	if (f->n_outq < OUTQ_MAX)
		f->outq[f->n_outq++] = *ev;
	else
		f->c_outq_drops++;
	pthread_mutex_unlock(&f->mu);
	wake_loop(f);
}

int fleet_pop(struct fleet *f, struct fleet_event *ev)
{
	int got = 0;

	pthread_mutex_lock(&f->mu);
	if (f->n_outq) {
		*ev = f->outq[0];
		memmove(f->outq, f->outq + 1, (f->n_outq - 1) * sizeof(*ev));
		f->n_outq--;
		got = 1;
	}
	pthread_mutex_unlock(&f->mu);
	return got;
}

int fleet_fd(const struct fleet *f)
{
	return f->evfd;
}

void fleet_clear_fd(struct fleet *f)
{
	uint64_t v;

	if (read(f->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fprintf(stderr, "lymphd: failed to read the fleet's eventfd: %s\n",
			strerror(errno));
}

static void push_in(struct fleet *f, const struct inq_item *it)
{
	pthread_mutex_lock(&f->mu);
	if (f->n_inq < INQ_MAX)
		f->inq[f->n_inq++] = *it;
	else
		f->c_queue_drops++;
	if (!it->decision)
		f->c_deaths_in++;
	pthread_mutex_unlock(&f->mu);
}

void fleet_danger(struct fleet *f, uint32_t dev, uint64_t ino, const char *path, uint32_t signo,
		  uint64_t fault_addr)
{
	struct inq_item it = { .dev = dev, .ino = ino, .signo = signo, .fault_addr = fault_addr };

	if (!f || !path || path[0] != '/' || !signo || signo > 64)
		return;
	snprintf(it.path, sizeof(it.path), "%s", path);
	push_in(f, &it);
}

void fleet_journal_tap(void *ctx, struct json_object *rec)
{
	struct fleet *f = ctx;
	struct inq_item it = { .decision = 1 };
	struct json_object *v;
	const char *type, *action;

	if (!f || !json_object_object_get_ex(rec, "type", &v) ||
	    !(type = json_object_get_string(v)) || !json_object_object_get_ex(rec, "action", &v) ||
	    !(action = json_object_get_string(v)))
		return;
	/* Decisions only; what lymphd itself did (start, reload) stays here. */
	if (strcmp(type, "quarantine") && strcmp(type, "throttle") && strcmp(type, "service") &&
	    strcmp(type, "fleet"))
		return;
	/* An intent ("intent", the throttle's "pin") is written before the
	 * action and answered by the action's own record: shared, it would
	 * count one decision twice at every peer. */
	if (!strcmp(action, "snapshot") || !strcmp(action, "protected") ||
	    !strcmp(action, "intent") || !strcmp(action, "pin"))
		return;
	snprintf(it.type, sizeof(it.type), "%s", type);
	snprintf(it.action, sizeof(it.action), "%s", action);
	if (json_object_object_get_ex(rec, "exe", &v) && v && json_object_get_string(v))
		snprintf(it.path, sizeof(it.path), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(rec, "exe_dev", &v) && v)
		it.dev = (uint32_t)json_object_get_int64(v);
	if (json_object_object_get_ex(rec, "exe_ino", &v) && v)
		it.ino = (uint64_t)json_object_get_int64(v);
	push_in(f, &it);
}

/* ---- libnats callbacks (libnats' threads: atomics only) ------------------- */

static void on_connected(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	atomic_store(&f->link, LINK_CONNECTED);
	atomic_store(&f->reconnected, 1);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	if (atomic_load(&f->link) != LINK_CLOSED)
		atomic_store(&f->link, LINK_RECONNECTING);
}

static void on_closed(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	atomic_store(&f->link, LINK_CLOSED);
}

/* ---- the thread ----------------------------------------------------------- */

static int do_connect(struct fleet *f)
{
	natsOptions *o = NULL;
	natsStatus s;
	char name[160];

	s = nats.natsOptions_Create(&o);
	if (s == NATS_OK)
		s = nats.natsOptions_SetServers(o, (const char **)f->c.servers,
						(int)f->c.n_servers);
	snprintf(name, sizeof(name), "lymphd %s/%s", f->c.name, f->host);
	if (s == NATS_OK)
		s = nats.natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = nats.natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = nats.natsOptions_SetMaxReconnect(o, -1); /* forever, with backoff */
	if (s == NATS_OK)
		s = nats.natsOptions_SetReconnectWait(o, 1000);
	if (s == NATS_OK)
		s = nats.natsOptions_SetReconnectJitter(o, 500, 1000);
	if (s == NATS_OK)
		s = nats.natsOptions_SetRetryOnFailedConnect(o, true, on_connected, f);
	if (s == NATS_OK)
		s = nats.natsOptions_SetDisconnectedCB(o, on_disconnected, f);
	if (s == NATS_OK)
		s = nats.natsOptions_SetReconnectedCB(o, on_connected, f);
	if (s == NATS_OK)
		s = nats.natsOptions_SetClosedCB(o, on_closed, f);
	if (s == NATS_OK && f->c.credentials)
		s = nats.natsOptions_SetUserCredentialsFromFiles(o, f->c.credentials, NULL);
	if (s == NATS_OK && (f->c.tls_ca || f->c.tls_cert))
		s = nats.natsOptions_SetSecure(o, true);
	if (s == NATS_OK && f->c.tls_ca)
		s = nats.natsOptions_LoadCATrustedCertificates(o, f->c.tls_ca);
	if (s == NATS_OK && f->c.tls_cert)
		s = nats.natsOptions_LoadCertificatesChain(o, f->c.tls_cert, f->c.tls_key);
	if (s != NATS_OK) {
		set_error(f, "failed to set up the NATS options", s);
		nats.natsOptions_Destroy(o);
		return -EINVAL;
	}
	s = nats.natsConnection_Connect(&f->nc, o);
	nats.natsOptions_Destroy(o);
	if (s == NATS_OK) {
		atomic_store(&f->link, LINK_CONNECTED);
		return 0;
	}
	if (s == NATS_NOT_YET_CONNECTED)
		return 0; /* libnats keeps trying in the background */
	set_error(f, "failed to connect to the fleet", s);
	f->nc = NULL;
	return -ECONNREFUSED;
}

static void teardown_js(struct fleet *f)
{
	if (f->w)
		nats.kvWatcher_Destroy(f->w);
	f->w = NULL;
	if (f->kv)
		nats.kvStore_Destroy(f->kv);
	f->kv = NULL;
	if (f->js)
		nats.jsCtx_Destroy(f->js);
	f->js = NULL;
	f->ready = 0;
}

/* The stream and the bucket, created by whichever host comes first. */
static int setup_js(struct fleet *f)
{
	const char *subjects[1];
	char subj[192];
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsOptions jo;
	kvConfig kc;
	jsErrCode jerr = 0;
	natsStatus s;

	nats.jsOptions_Init(&jo);
	jo.Wait = JS_WAIT_MS;
	s = nats.natsConnection_JetStream(&f->js, f->nc, &jo);
	if (s != NATS_OK) {
		set_error(f, "failed to open JetStream", s);
		return -EIO;
	}
	nats.jsStreamConfig_Init(&sc);
	snprintf(subj, sizeof(subj), "lymph.%s.events.>", f->c.name);
	subjects[0] = subj;
	sc.Name = f->stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = f->c.replicas;
	sc.MaxAge = 7LL * 86400 * 1000000000LL; /* ns: a week of the fleet's history */
	sc.MaxBytes = 128LL << 20;		/* reserved on every replica */
	sc.Discard = js_DiscardOld;
	s = nats.js_AddStream(&si, f->js, &sc, NULL, &jerr);
	if (s != NATS_OK) {
		/* Already there (another host made it): use it as it is. */
		s = nats.js_GetStreamInfo(&si, f->js, f->stream, NULL, &jerr);
	}
	if (si)
		nats.jsStreamInfo_Destroy(si);
	if (s != NATS_OK) {
		set_error(f, "failed to create the fleet's stream", s);
		teardown_js(f);
		return -EIO;
	}
	nats.kvConfig_Init(&kc);
	kc.Bucket = f->bucket;
	kc.History = 1;
	kc.Replicas = (int)f->c.replicas;
	kc.MaxValueSize = 4096;
	kc.StorageType = js_FileStorage;
	/* ns: a report no host rewrote for twice the window is gone (the
	 * rule forgets it after one window already). */
	kc.TTL = (int64_t)(2 * f->c.window);
	s = nats.js_CreateKeyValue(&f->kv, f->js, &kc);
	if (s != NATS_OK)
		s = nats.js_KeyValue(&f->kv, f->js, f->bucket);
	if (s != NATS_OK) {
		set_error(f, "failed to open the fleet's key-value bucket", s);
		teardown_js(f);
		return -EIO;
	}
	f->ready = 1;
	return 0;
}

static int watch(struct fleet *f)
{
	natsStatus s;

	if (f->w)
		nats.kvWatcher_Destroy(f->w);
	f->w = NULL;
	/* Every current value first (catching up), then every change. */
	s = nats.kvStore_WatchAll(&f->w, f->kv, NULL);
	if (s != NATS_OK) {
		set_error(f, "failed to watch the fleet's bucket", s);
		f->w = NULL;
		return -EIO;
	}
	return 0;
}

static struct local_report *local_for(struct fleet *f, const struct idcache *id)
{
	size_t i, oldest = 0;

	for (i = 0; i < f->n_local; i++)
		if (!strcmp(f->local[i].r.sha256, id->sha256))
			return &f->local[i];
	if (f->n_local < LOCAL_MAX) {
		i = f->n_local++;
	} else {
		for (i = 1; i < f->n_local; i++)
			if (f->local[i].r.last_ms < f->local[oldest].r.last_ms)
				oldest = i;
		i = oldest;
	}
	memset(&f->local[i], 0, sizeof(f->local[i]));
	return &f->local[i];
}

/* Tell the loop that the binary of c is vaccinated (once per inode). */
static void vaccinate_local(struct fleet *f, struct idcache *c, const struct fleet_bad *b)
{
	struct fleet_event ev = { .kind = FLEET_VACCINATE };
	size_t i, len = 0;

	if (c->vaccinated_sent)
		return;
	c->vaccinated_sent = 1;
	memcpy(ev.sha256, b->sha256, sizeof(ev.sha256));
	memcpy(ev.build_id, b->build_id, sizeof(ev.build_id));
	snprintf(ev.path, sizeof(ev.path), "%s", c->path);
	ev.dev = c->dev;
	ev.ino = c->ino;
	ev.hosts = b->distinct;
	for (i = 0; i < b->n_hosts; i++) {
		ev.deaths += b->hosts[i].count;
		if (len + strlen(b->hosts[i].host) + 2 < sizeof(ev.host_list))
			len += (size_t)snprintf(ev.host_list + len, sizeof(ev.host_list) - len,
						"%s%s", len ? "," : "", b->hosts[i].host);
	}
	push_event(f, &ev);
}

static void take_death(struct fleet *f, const struct inq_item *it, uint64_t now_ms)
{
	struct idcache *c = identify(f, it->dev, it->ino, it->path);
	struct fleet_batch *b = f->batch;
	struct local_report *lr;
	struct fleet_bad *bad;
	size_t i;

	if (!c)
		return;
	/* The batch: one line per (binary, signal), counting. */
	for (i = 0; i < b->n_deaths; i++)
		if (!strcmp(b->deaths[i].sha256, c->sha256) && b->deaths[i].signo == it->signo)
			break;
	if (i < b->n_deaths) {
		if (b->deaths[i].count < FLEET_COUNT_CAP)
			b->deaths[i].count++;
	} else if (b->n_deaths < FLEET_BATCH_MAX) {
		struct fleet_death *d = &b->deaths[b->n_deaths++];

		memcpy(d->sha256, c->sha256, sizeof(d->sha256));
		memcpy(d->build_id, c->build_id, sizeof(d->build_id));
		snprintf(d->path, sizeof(d->path), "%s", c->path);
		d->signo = it->signo;
		d->fault_page_off = (uint32_t)(it->fault_addr & 4095);
		d->count = 1;
		if (!f->batch_since_ms)
			f->batch_since_ms = now_ms;
	} else {
		f->batch_dropped++;
		pthread_mutex_lock(&f->mu);
		f->c_rate_drops++;
		pthread_mutex_unlock(&f->mu);
	}
	/* The bucket: this host's report about this binary. */
	lr = local_for(f, c);
	if (!lr->r.sha256[0]) {
		snprintf(lr->r.host, sizeof(lr->r.host), "%s", f->host);
		memcpy(lr->r.sha256, c->sha256, sizeof(lr->r.sha256));
		lr->r.first_ms = now_ms;
	}
	memcpy(lr->r.build_id, c->build_id, sizeof(lr->r.build_id));
	snprintf(lr->r.path, sizeof(lr->r.path), "%s", c->path);
	lr->r.signo = it->signo;
	if (lr->r.count < FLEET_COUNT_CAP)
		lr->r.count++;
	lr->r.last_ms = now_ms;
	lr->dirty = 1;
	/* Already bad in the fleet: this binary here is vaccinated too. */
	pthread_mutex_lock(&f->mu);
	bad = fleet_memory_find(&f->mem, c->sha256);
	if (bad && bad->vaccinated && !c->vaccinated_sent) {
		struct fleet_bad copy = *bad;

		copy.hosts = calloc(bad->n_hosts ? bad->n_hosts : 1, sizeof(*copy.hosts));
		if (copy.hosts)
			memcpy(copy.hosts, bad->hosts, bad->n_hosts * sizeof(*copy.hosts));
		else
			copy.n_hosts = 0;
		pthread_mutex_unlock(&f->mu);
		vaccinate_local(f, c, &copy);
		free(copy.hosts);
		return;
	}
	pthread_mutex_unlock(&f->mu);
}

static void take_decision(struct fleet *f, const struct inq_item *it, uint64_t now_ms)
{
	struct fleet_batch *b = f->batch;
	struct fleet_decision *d;
	size_t i;

	if (b->n_decisions == FLEET_BATCH_MAX) {
		pthread_mutex_lock(&f->mu);
		f->c_rate_drops++;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	d = &b->decisions[b->n_decisions];
	memset(d, 0, sizeof(*d));
	snprintf(d->type, sizeof(d->type), "%s", it->type);
	snprintf(d->action, sizeof(d->action), "%s", it->action);
	for (i = 0; d->action[i]; i++)
		if (!((d->action[i] >= 'a' && d->action[i] <= 'z') || d->action[i] == '_'))
			d->action[i] = '-';
	if (it->path[0] == '/')
		snprintf(d->path, sizeof(d->path), "%s", it->path);
	for (i = 0; i < f->n_ids; i++)
		if (it->ino && f->ids[i].dev == it->dev && f->ids[i].ino == it->ino)
			memcpy(d->sha256, f->ids[i].sha256, sizeof(d->sha256));
	b->n_decisions++;
	if (!f->batch_since_ms)
		f->batch_since_ms = now_ms;
}

static void drain_inq(struct fleet *f, uint64_t now_ms)
{
	struct inq_item *items;
	size_t n, i;

	pthread_mutex_lock(&f->mu);
	n = f->n_inq;
	items = n ? malloc(n * sizeof(*items)) : NULL;
	if (items)
		memcpy(items, f->inq, n * sizeof(*items));
	f->n_inq = 0;
	pthread_mutex_unlock(&f->mu);
	for (i = 0; items && i < n; i++) {
		if (items[i].decision)
			take_decision(f, &items[i], now_ms);
		else
			take_death(f, &items[i], now_ms);
	}
	free(items);
}

static int linked(struct fleet *f)
{
	return f->nc && f->ready && nats.natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED;
}

static void flush_batch(struct fleet *f, uint64_t now_ms)
{
	struct fleet_batch *b = f->batch;
	jsPubOptions po;
	jsErrCode jerr = 0;
	natsStatus s;
	char *text;

	if (!b->n_deaths && !b->n_decisions)
		return;
	if (now_ms < f->batch_since_ms + BATCH_PERIOD_MS || !linked(f))
		return;
	if (!fleet_bucket_take(&f->bucket_tb, clock_mono_ns()))
		return; /* the batch keeps merging until a token comes */
	snprintf(b->host, sizeof(b->host), "%s", f->host);
	b->ts_ms = now_ms;
	b->dropped = f->batch_dropped;
	if (fleet_batch_encode(b, &text))
		return;
	nats.jsPubOptions_Init(&po);
	po.MaxWait = PUB_WAIT_MS;
	s = nats.js_Publish(NULL, f->js, f->subject, text, (int)strlen(text), &po, &jerr);
	pthread_mutex_lock(&f->mu);
	if (s == NATS_OK) {
		f->c_batches++;
		f->c_bytes_sent += strlen(text) + strlen(f->subject);
		memset(b, 0, sizeof(*b));
		f->batch_since_ms = 0;
		f->batch_dropped = 0;
	} else {
		f->c_batch_errors++;
	}
	pthread_mutex_unlock(&f->mu);
	free(text);
	if (s != NATS_OK)
		set_error(f, "failed to publish to the fleet's stream", s);
}

static void put_reports(struct fleet *f, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < f->n_local && linked(f); i++) {
		struct local_report *lr = &f->local[i];
		char key[FLEET_SHA_LEN + FLEET_NAME_MAX + 2], *text;
		natsStatus s;

		if (!lr->dirty || (lr->put_ms && now_ms < lr->put_ms + REPORT_PERIOD_MS))
			continue;
		if (!fleet_bucket_take(&f->bucket_tb, clock_mono_ns()))
			return;
		if (fleet_kv_key(key, sizeof(key), lr->r.sha256, lr->r.host) ||
		    fleet_report_encode(&lr->r, &text))
			continue;
		s = nats.kvStore_PutString(NULL, f->kv, key, text);
		pthread_mutex_lock(&f->mu);
		if (s == NATS_OK) {
			f->c_reports++;
			f->c_bytes_sent += strlen(text) + strlen(key) + 8;
			lr->dirty = 0;
			lr->put_ms = now_ms;
		} else {
			f->c_report_errors++;
		}
		pthread_mutex_unlock(&f->mu);
		free(text);
		if (s != NATS_OK)
			set_error(f, "failed to write this host's report to the bucket", s);
	}
}

static void on_entry(struct fleet *f, kvEntry *e)
{
	char sha[FLEET_SHA_LEN], host[FLEET_NAME_MAX];
	struct fleet_report r;
	kvOperation op = nats.kvEntry_Operation(e);
	int bad = 0;

	if (fleet_kv_key_parse(nats.kvEntry_Key(e), sha, host)) {
		bad = 1;
	} else if (op == kvOp_Delete || op == kvOp_Purge) {
		pthread_mutex_lock(&f->mu);
		fleet_memory_forget(&f->mem, sha, host);
		f->c_entries++;
		pthread_mutex_unlock(&f->mu);
		return;
	} else if (fleet_report_decode(nats.kvEntry_Value(e), (size_t)nats.kvEntry_ValueLen(e),
				       &r) ||
		   strcmp(r.sha256, sha) || strcmp(r.host, host)) {
		bad = 1; /* a host speaks only under its own key, about that binary */
	}
	pthread_mutex_lock(&f->mu);
	if (bad) {
		f->c_bad_msgs++;
	} else {
		/* The server's time of the write, never what the host claims. */
		uint64_t at = (uint64_t)nats.kvEntry_Created(e) / 1000000ULL;

		f->c_entries++;
		fleet_memory_report(&f->mem, &r, at);
	}
	pthread_mutex_unlock(&f->mu);
}

/* Binaries here with the identity of b: those hashed already, and the path
 * the fleet names when it is the same file here. */
static void find_local(struct fleet *f, const struct fleet_bad *b)
{
	size_t i;
	int found = 0;

	for (i = 0; i < f->n_ids; i++)
		if (!strcmp(f->ids[i].sha256, b->sha256)) {
			vaccinate_local(f, &f->ids[i], b);
			found = 1;
		}
	if (!found && b->path[0]) {
		struct idcache *c = identify(f, 0, 0, b->path);

		if (c && !strcmp(c->sha256, b->sha256)) {
			vaccinate_local(f, c, b);
			found = 1;
		}
	}
	if (!found) {
		/* Not here (yet): the loop journals it; a death of it later vaccinates. */
		struct fleet_event ev = { .kind = FLEET_VACCINATE, .hosts = b->distinct };

		memcpy(ev.sha256, b->sha256, sizeof(ev.sha256));
		memcpy(ev.build_id, b->build_id, sizeof(ev.build_id));
		for (i = 0; i < b->n_hosts; i++)
			ev.deaths += b->hosts[i].count;
		push_event(f, &ev);
	}
}

static void evaluate(struct fleet *f, uint64_t now_ms)
{
	struct fleet_change ch[64];
	struct fleet_bad *copies;
	size_t n, i;

	pthread_mutex_lock(&f->mu);
	fleet_memory_gc(&f->mem, now_ms, f->window_ms);
	n = fleet_memory_eval(&f->mem, now_ms, f->c.k, f->window_ms, ch, 64);
	copies = n ? calloc(n, sizeof(*copies)) : NULL;
	for (i = 0; copies && i < n; i++) {
		copies[i] = *ch[i].bad;
		copies[i].hosts = calloc(ch[i].bad->n_hosts ? ch[i].bad->n_hosts : 1,
					 sizeof(struct fleet_seen));
		if (copies[i].hosts)
			memcpy(copies[i].hosts, ch[i].bad->hosts,
			       ch[i].bad->n_hosts * sizeof(struct fleet_seen));
		else
			copies[i].n_hosts = 0;
		if (ch[i].kind == FLEET_VACCINATE)
			f->c_vaccinations++;
		else
			f->c_fades++;
	}
	pthread_mutex_unlock(&f->mu);
	for (i = 0; copies && i < n; i++) {
		if (ch[i].kind == FLEET_VACCINATE) {
			find_local(f, &copies[i]);
		} else {
			struct fleet_event ev = { .kind = FLEET_FADE, .hosts = copies[i].distinct };
			size_t j;

			memcpy(ev.sha256, copies[i].sha256, sizeof(ev.sha256));
			for (j = 0; j < f->n_ids; j++)
				if (!strcmp(f->ids[j].sha256, copies[i].sha256))
					f->ids[j].vaccinated_sent = 0;
			push_event(f, &ev);
		}
		free(copies[i].hosts);
	}
	free(copies);
}

static void *fleet_main(void *arg)
{
	struct fleet *f = arg;

	do_connect(f);
	while (!atomic_load(&f->stop)) {
		uint64_t now = wall_ms();
		kvEntry *e = NULL;

		if (!f->nc && now >= f->next_setup_ms) {
			f->next_setup_ms = now + 2000;
			do_connect(f);
		}
		if (f->nc && !f->ready && now >= f->next_setup_ms &&
		    nats.natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED) {
			pthread_mutex_lock(&f->mu);
			nats.natsConnection_GetConnectedUrl(f->nc, f->url, sizeof(f->url));
			pthread_mutex_unlock(&f->mu);
			if (setup_js(f) || watch(f)) {
				teardown_js(f); /* not ready: set up again */
				f->next_setup_ms = now + 2000;
			} else {
				atomic_store(&f->reconnected, 0);
			}
		}
		/* Back after a disconnection: watch again, which delivers every
		 * current value first: what the fleet learned meanwhile. */
		if (f->ready && atomic_exchange(&f->reconnected, 0)) {
			pthread_mutex_lock(&f->mu);
			f->c_reconnects++;
			nats.natsConnection_GetConnectedUrl(f->nc, f->url, sizeof(f->url));
			f->connected_since_ms = now;
			pthread_mutex_unlock(&f->mu);
			if (!watch(f)) {
				/* After a whole cluster came back, the first watch
				 * may land on a stream with no leader yet and then
				 * hear nothing: watch once more when it settled
				 * (catching up is idempotent). */
				f->rewatch_ms = now + REWATCH_MS;
			} else {
				/* The bucket's stream is not there (yet): a cluster
				 * that came back whole may have lost it, or not have
				 * a leader for it yet.  Set up again, in 2 s, which
				 * creates what is missing and watches. */
				teardown_js(f);
				f->next_setup_ms = now + 2000;
			}
		}
		if (f->ready && f->rewatch_ms && now >= f->rewatch_ms) {
			f->rewatch_ms = 0;
			if (watch(f)) {
				teardown_js(f);
				f->next_setup_ms = now + 2000;
			}
		}
		drain_inq(f, now);
		flush_batch(f, now);
		put_reports(f, now);
		if (f->w && linked(f)) {
			/* Up to 100 ms waiting for the fleet, then the queues again. */
			while (nats.kvWatcher_Next(&e, f->w, 100) == NATS_OK) {
				if (e) {
					on_entry(f, e);
					nats.kvEntry_Destroy(e);
					e = NULL;
				}
				if (atomic_load(&f->stop))
					break;
				if (wall_ms() > now + 200)
					break;
			}
		} else {
			nats.nats_Sleep(100);
		}
		now = wall_ms();
		if (now >= f->next_eval_ms) {
			f->next_eval_ms = now + EVAL_PERIOD_MS;
			evaluate(f, now);
		}
	}
	return NULL;
}

/* ---- the loop's side ------------------------------------------------------- */

static int conf_copy(struct fleet_conf *to, const struct fleet_conf *from)
{
	size_t i;

	*to = *from;
	to->credentials = to->tls_ca = to->tls_cert = to->tls_key = NULL;
	for (i = 0; i < from->n_servers; i++)
		to->servers[i] = strdup(from->servers[i]);
	if (from->credentials)
		to->credentials = strdup(from->credentials);
	if (from->tls_ca)
		to->tls_ca = strdup(from->tls_ca);
	if (from->tls_cert)
		to->tls_cert = strdup(from->tls_cert);
	if (from->tls_key)
		to->tls_key = strdup(from->tls_key);
	for (i = 0; i < from->n_servers; i++)
		if (!to->servers[i])
			return -ENOMEM;
	return 0;
}

int fleet_start(struct fleet **out, const struct fleet_conf *conf)
{
	struct fleet *f = calloc(1, sizeof(*f));
	int err;

	char why[256] = "";

	*out = NULL;
	if (!f)
		return -ENOMEM;
	err = nats_load(why, sizeof(why));
	if (err) {
		fprintf(stderr,
			"lymphd: failed to load %s: %s; install the package libnats3.4 "
			"for the fleet link, or remove the [fleet] section\n",
			NATS_LIB, why);
		free(f);
		return err;
	}
	f->evfd = -1;
	pthread_mutex_init(&f->mu, NULL);
	err = conf_copy(&f->c, conf);
	if (err)
		goto fail;
	if (conf->host[0]) {
		snprintf(f->host, sizeof(f->host), "%s", conf->host);
	} else {
		char hn[256] = "", *p;

		gethostname(hn, sizeof(hn) - 1);
		for (p = hn; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
				*p = '_'; /* dots would split the KV key */
		snprintf(f->host, sizeof(f->host), "%s", hn[0] ? hn : "unnamed");
	}
	snprintf(f->subject, sizeof(f->subject), "lymph.%s.events.%s", conf->name, f->host);
	snprintf(f->stream, sizeof(f->stream), "LYMPH_%s", conf->name);
	snprintf(f->bucket, sizeof(f->bucket), "lymph_%s", conf->name);
	f->window_ms = conf->window / 1000000ULL;
	fleet_memory_init(&f->mem);
	fleet_bucket_init(&f->bucket_tb, conf->rate, conf->burst, clock_mono_ns());
	f->inq = calloc(INQ_MAX, sizeof(*f->inq));
	f->outq = calloc(OUTQ_MAX, sizeof(*f->outq));
	f->ids = calloc(IDCACHE_MAX, sizeof(*f->ids));
	f->local = calloc(LOCAL_MAX, sizeof(*f->local));
	f->batch = calloc(1, sizeof(*f->batch));
	f->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!f->inq || !f->outq || !f->ids || !f->local || !f->batch || f->evfd < 0) {
		err = f->evfd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	atomic_store(&f->link, LINK_CONNECTING);
	err = -pthread_create(&f->thr, NULL, fleet_main, f);
	if (err)
		goto fail;
	f->started = 1;
	*out = f;
	return 0;
fail:
	fleet_stop(f);
	return err;
}

void fleet_stop(struct fleet *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, 1);
	if (f->started)
		pthread_join(f->thr, NULL);
	teardown_js(f);
	if (f->nc) {
		int waited = 0;

		nats.natsConnection_Close(f->nc);
		/* libnats calls on_closed from its own thread, after Close
		 * returns: f must outlive that call. */
		while (atomic_load(&f->link) != LINK_CLOSED && waited++ < 500)
			nats.nats_Sleep(10);
		nats.natsConnection_Destroy(f->nc);
		if (atomic_load(&f->link) != LINK_CLOSED) {
			fprintf(stderr,
				"lymphd: the fleet link did not close in 5 s; its memory is left\n");
			return;
		}
	}
	if (f->evfd >= 0)
		close(f->evfd);
	fleet_memory_free(&f->mem);
	fleet_conf_free(&f->c);
	free(f->inq);
	free(f->outq);
	free(f->ids);
	free(f->local);
	free(f->batch);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

const char *fleet_host(const struct fleet *f)
{
	return f->host;
}

int fleet_release(struct fleet *f, const char *sha256)
{
	int err;

	/* Until it fades: a fade clears the release, and the thread clears
	 * what it sent per inode, so a later vaccination is sent again. */
	pthread_mutex_lock(&f->mu);
	err = fleet_memory_release(&f->mem, sha256);
	pthread_mutex_unlock(&f->mu);
	return err;
}

static const char *link_name(int l)
{
	switch (l) {
	case LINK_CONNECTED: return "connected";
	case LINK_RECONNECTING: return "reconnecting";
	case LINK_CLOSED: return "closed";
	}
	return "connecting";
}

/* The configured servers (what a reload changes; url is the one in use). */
static struct json_object *servers_json(const struct fleet_conf *c)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < c->n_servers; i++)
		json_object_array_add(a, json_object_new_string(c->servers[i]));
	return a;
}

struct json_object *fleet_json(struct fleet *f)
{
	struct json_object *o = json_object_new_object(), *c = json_object_new_object(),
			   *bad = json_object_new_array();
	uint64_t now = wall_ms();
	size_t i, j;

	pthread_mutex_lock(&f->mu);
	json_object_object_add(o, "fleet", json_object_new_string(f->c.name));
	json_object_object_add(o, "host", json_object_new_string(f->host));
	json_object_object_add(o, "link", json_object_new_string(link_name(atomic_load(&f->link))));
	json_object_object_add(o, "url", f->url[0] ? json_object_new_string(f->url) : NULL);
	json_object_object_add(o, "servers", servers_json(&f->c));
	json_object_object_add(o, "ready", json_object_new_boolean(f->ready));
	json_object_object_add(o, "last_error",
			       f->last_error[0] ? json_object_new_string(f->last_error) : NULL);
	json_object_object_add(o, "k", json_object_new_int64(f->c.k));
	json_object_object_add(o, "window_s", json_object_new_double((double)f->window_ms / 1e3));
#define CNT(name, v) json_object_object_add(c, name, json_object_new_uint64(v))
	CNT("deaths_queued", f->c_deaths_in);
	CNT("queue_drops", f->c_queue_drops);
	CNT("rate_drops", f->c_rate_drops);
	CNT("batches_sent", f->c_batches);
	CNT("batch_errors", f->c_batch_errors);
	CNT("bytes_sent", f->c_bytes_sent);
	CNT("reports_sent", f->c_reports);
	CNT("report_errors", f->c_report_errors);
	CNT("entries_received", f->c_entries);
	CNT("malformed_dropped", f->c_bad_msgs);
	CNT("vaccinations", f->c_vaccinations);
	CNT("fades", f->c_fades);
	CNT("reconnects", f->c_reconnects);
	CNT("hash_errors", f->c_hash_errors);
#undef CNT
	json_object_object_add(o, "counters", c);
	for (i = 0; i < f->mem.n; i++) {
		const struct fleet_bad *b = &f->mem.v[i];
		struct json_object *x = json_object_new_object(), *hosts = json_object_new_array();

		json_object_object_add(x, "sha256", json_object_new_string(b->sha256));
		json_object_object_add(x, "build_id",
				       b->build_id[0] ? json_object_new_string(b->build_id) : NULL);
		json_object_object_add(x, "path",
				       b->path[0] ? json_object_new_string(b->path) : NULL);
		json_object_object_add(
			x, "distinct_hosts",
			json_object_new_int64(fleet_bad_distinct(b, now, f->window_ms)));
		json_object_object_add(x, "vaccinated", json_object_new_boolean(b->vaccinated));
		json_object_object_add(x, "released", json_object_new_boolean(b->released));
		for (j = 0; j < b->n_hosts; j++) {
			struct json_object *h = json_object_new_object();

			json_object_object_add(h, "host", json_object_new_string(b->hosts[j].host));
			json_object_object_add(h, "deaths",
					       json_object_new_int64(b->hosts[j].count));
			json_object_object_add(
				h, "age_s",
				json_object_new_double(now > b->hosts[j].at_ms
							       ? (double)(now - b->hosts[j].at_ms) /
									 1e3
							       : 0.0));
			json_object_array_add(hosts, h);
		}
		json_object_object_add(x, "hosts", hosts);
		json_object_array_add(bad, x);
	}
	pthread_mutex_unlock(&f->mu);
	json_object_object_add(o, "binaries", bad);
	return o;
}
