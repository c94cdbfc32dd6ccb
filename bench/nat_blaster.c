/* UDP blaster for bench/nat_throughput: send fixed-size datagrams from SRC_PORT to DST:DPORT with TOS
 * for SECONDS as fast as sendmmsg allows; print the number sent. Build: cc -O2 -o blaster nat_blaster.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s SRC_PORT DST DPORT TOS SECONDS\n", argv[0]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int tos = atoi(argv[4]);
    setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) { perror("bind"); return 1; }
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &dst.sin_addr);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) { perror("connect"); return 1; }
    char payload[172]; /* G.711 20 ms RTP packet size */
    memset(payload, 0x55, sizeof payload);
    struct iovec iov = {payload, sizeof payload};
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) { msgs[i].msg_hdr.msg_iov = &iov; msgs[i].msg_hdr.msg_iovlen = 1; }
    double end = now() + atof(argv[5]);
    unsigned long long sent = 0;
    while (now() < end) {
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0) sent += n;
    }
    printf("%llu\n", sent);
    return 0;
}
