// zdtm-desc: task names (comm) of the process and of a second thread are kept
// zdtm-disturb: gdb_call '(int)prctl(15, "other")'
#include "lib.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int go;

static void *worker(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	char buf[32], path[64];
	test_init(argc, argv);
	SYS(prctl(PR_SET_NAME, "zdtm main:\xe2\x9c\x93"));
	CHECK(!pthread_create(&th, NULL, worker, NULL), "pthread_create");
	CHECK(!pthread_setname_np(th, "zdtm worker"), "pthread_setname_np");
	test_ready();
	test_waitsig();

	CHECK(!strcmp(read_text("/proc/self/comm", buf, sizeof(buf)), "zdtm main:\xe2\x9c\x93\n"),
	      "comm is '%s'", buf);
	CHECK(!pthread_getname_np(th, buf, sizeof(buf)), "pthread_getname_np");
	CHECK(!strcmp(buf, "zdtm worker"), "the thread's name is '%s'", buf);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", getpid());
	CHECK(!strcmp(read_text(path, buf, sizeof(buf)), "zdtm main:\xe2\x9c\x93\n"), "%s is '%s'",
	      path, buf);
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	CHECK(!pthread_join(th, NULL), "pthread_join");
	pass();
}
