// zdtm-desc: a signalfd keeps its mask and delivers the signals that were pending, with their values
// zdtm-disturb: kill -s $((34 + 2)) $PID
#include "lib.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	test_init(argc, argv);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 2);
	SYS(sigprocmask(SIG_BLOCK, &set, NULL));
	fd_move((int)SYS(signalfd(-1, &set, SFD_NONBLOCK)), 10);
	SYS(kill(getpid(), SIGUSR1));
	SYS(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 7 }));
	SYS(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 8 }));
	char info[1024];
	read_text("/proc/self/fdinfo/10", info, sizeof(info));
	char *mask = strstr(info, "sigmask:");
	CHECK(mask, "no sigmask in fdinfo");
	unsigned long long want_mask = strtoull(mask + 8, NULL, 16);
	test_ready();
	test_waitsig();

	read_text("/proc/self/fdinfo/10", info, sizeof(info));
	mask = strstr(info, "sigmask:");
	CHECK(mask && strtoull(mask + 8, NULL, 16) == want_mask, "the signalfd's mask changed");
	struct signalfd_siginfo si[4];
	ssize_t n = read(10, si, sizeof(si));
	CHECK(n == 3 * (ssize_t)sizeof(si[0]), "read %zd signals, not 3", n / (ssize_t)sizeof(si[0]));
	CHECK(si[0].ssi_signo == SIGUSR1, "first signal is %u", si[0].ssi_signo);
	for (int i = 1; i < 3; i++)
		CHECK(si[i].ssi_signo == (unsigned)SIGRTMIN + 2 && si[i].ssi_int == 6 + i &&
			      si[i].ssi_code == SI_QUEUE,
		      "signal %d is %u with value %d", i, si[i].ssi_signo, si[i].ssi_int);
	/* Still live: a new signal shows up. */
	SYS(kill(getpid(), SIGUSR1));
	CHECK(read(10, si, sizeof(si)) == sizeof(si[0]) && si[0].ssi_signo == SIGUSR1,
	      "a new signal did not reach the signalfd");
	pass();
}
