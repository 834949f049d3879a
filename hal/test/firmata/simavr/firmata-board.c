/*
 * An emulated Arduino-class board for the Firmata tests: an ATmega328P in simavr running the real
 * StandardFirmata firmware (an Intel HEX file), its UART bridged to a pseudo-terminal, and a test
 * rig around it that the test process drives over stdin/stdout, one command per line:
 *
 *   drive <pin> 0|1|z        drive an Arduino digital pin from outside (z = let it float)
 *   level <pin>              -> "ok <0|1>": the electrical level of the pad
 *   wire <a> <b>             join two pads with a jumper wire (GPIO loopback)
 *   analog <channel> <mV>    voltage on analog input A<channel>
 *   i2c-attach <addr> reg8|reg16|sht3x   a device model on the emulated TWI (7-bit address)
 *   i2c-detach <addr>
 *   i2c-set <addr> <reg> <hex bytes>     load registers (reg16: one big-endian word per 2 bytes;
 *                                        sht3x: the 6 bytes of the next measurement, reg ignored)
 *   i2c-get <addr> <reg> <n> -> "ok <hex bytes>"
 *   unplug                   the USB link drops: the pty closes and the link path disappears
 *   plug [reset]             a new pty behind the link path; "reset" also resets the MCU
 *   reset                    the MCU resets (watchdog, brown-out) while the USB link stays
 *   quit
 *
 * Every command answers one line ("ok ..." or "err ..."), so the test knows the rig changed
 * before it goes on. The MCU runs at real time (16 MHz), throttled so it does not spin a core.
 *
 * Why an ATmega328P and not the LattePanda's ATmega32U4: the 32U4 reaches the host through its
 * own USB controller (USB CDC), and simavr can only bridge that to a real host through the Linux
 * vhci-hcd (usbip) kernel module; the 328P runs the same StandardFirmata sketch with the same
 * Firmata protocol over a UART, which simavr bridges to a pty. Same AVR core, TWI and ADC.
 *
 * Register and pin facts: ATmega328P datasheet (DS40002061), section 14 (I/O ports) and the
 * Arduino Uno pin map (D0-D7 = PD0-PD7, D8-D13 = PB0-PB5, D14-D19/A0-A5 = PC0-PC5).
 * Built against simavr 1.6 (Debian 12: libsimavr-dev); see firmata-board.ts for how.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_ioport.h"
#include "avr_twi.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_hex.h"

#define PINS 20
#define MAX_DEVICES 8
#define MAX_WIRES 8
#define SLICE_CYCLES 16000 /* 1 ms of MCU time between looks at the outside world */

enum dev_kind { DEV_REG8, DEV_REG16, DEV_SHT3X };

struct i2c_dev {
	int used;
	uint8_t addr; /* 7-bit */
	enum dev_kind kind;
	uint8_t regs[256];
	uint16_t words[256];
	uint8_t pointer;
	int index;      /* byte index within the current message */
	uint8_t cmd[2]; /* sht3x command being received */
	uint8_t measurement[6];
	int pending; /* sht3x: a measurement is ready to be read */
};

static avr_t *avr;
static const char *link_path;
static int pty_master = -1, pty_slave = -1;
static int ext[PINS];        /* -1 floating, 0 or 1 driven by the test */
static int wires[MAX_WIRES][2];
static int nwires;
static int uart_xoff;
static uint8_t rx_buf[4096];
static size_t rx_len;
static struct i2c_dev devs[MAX_DEVICES];
static struct i2c_dev *selected;
static avr_irq_t *twi_irq;

static void quiet_logger(avr_t *a, const int level, const char *fmt, va_list ap)
{
	(void)a;
	if (level <= LOG_WARNING)
		vfprintf(stderr, fmt, ap);
}

static void reply(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- pads -------------------------------------------------------------------------------- */

static char pin_port(int pin) { return pin < 8 ? 'D' : pin < 14 ? 'B' : 'C'; }
static int pin_bit(int pin) { return pin < 8 ? pin : pin < 14 ? pin - 8 : pin - 14; }

static avr_ioport_state_t port_state(char port)
{
	avr_ioport_state_t st;
	avr_ioctl(avr, AVR_IOCTL_IOPORT_GETSTATE(port), &st);
	return st;
}

static int is_output(int pin)
{
	return (port_state(pin_port(pin)).ddr >> pin_bit(pin)) & 1;
}

static int port_bit(int pin)
{
	return (port_state(pin_port(pin)).port >> pin_bit(pin)) & 1;
}

/* What drives a pad from outside the MCU: the test, or the other end of a jumper wire. */
static int outside_drive(int pin)
{
	if (ext[pin] >= 0)
		return ext[pin];
	for (int w = 0; w < nwires; w++) {
		int other = wires[w][0] == pin ? wires[w][1] : wires[w][1] == pin ? wires[w][0] : -1;
		if (other < 0)
			continue;
		if (is_output(other))
			return port_bit(other);
		if (ext[other] >= 0)
			return ext[other];
		/* both ends are inputs: the wire carries the pull-up of either end */
		if (port_bit(other))
			return 1;
	}
	return -1;
}

/*
 * The electrical level of a pad: the MCU's output driver wins; an input reads what drives it
 * from outside, else its pull-up (PORT bit set on an input, datasheet 14.2.1), else the rig's
 * weak pull-down (a floating pin reads 0, as gpio-sim's pads do).
 */
static int pad_level(int pin)
{
	if (is_output(pin))
		return port_bit(pin);
	int d = outside_drive(pin);
	if (d >= 0)
		return d;
	return port_bit(pin);
}

/* Presents the pad levels to the MCU's PIN registers. D0/D1 are the UART and stay untouched. */
static void update_pads(void)
{
	for (int pin = 2; pin < PINS; pin++) {
		char port = pin_port(pin);
		int bit = pin_bit(pin);
		int level = pad_level(pin);
		if (((port_state(port).pin >> bit) & 1) == level)
			continue;
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit), level);
	}
}

/* ---- UART <-> pty ------------------------------------------------------------------------ */

static void uart_out_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	uint8_t b = value & 0xff;
	/* A USB CDC link with no reader drops data; so does this one when the pty is full or gone. */
	if (pty_master >= 0 && write(pty_master, &b, 1) < 0 && errno != EAGAIN && errno != EIO)
		perror("pty write");
}

static void uart_xon_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	uart_xoff = 0;
}

static void uart_xoff_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	uart_xoff = 1;
}

static void feed_uart(void)
{
	size_t used = 0;
	while (used < rx_len && !uart_xoff) {
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT), rx_buf[used]);
		used++;
	}
	memmove(rx_buf, rx_buf + used, rx_len - used);
	rx_len -= used;
}

static int plug(void)
{
	struct termios raw;
	if (openpty(&pty_master, &pty_slave, NULL, NULL, NULL) < 0)
		return -1;
	/* Raw both ways before anyone opens the slave: an echoing line discipline would feed the
	 * firmware's own output back to it. The rig keeps the slave open, like a device that stays. */
	tcgetattr(pty_slave, &raw);
	cfmakeraw(&raw);
	tcsetattr(pty_slave, TCSANOW, &raw);
	fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK);
	unlink(link_path);
	if (symlink(ptsname(pty_master), link_path) < 0)
		return -1;
	rx_len = 0;
	return 0;
}

static void unplug(void)
{
	unlink(link_path);
	if (pty_master >= 0)
		close(pty_master);
	if (pty_slave >= 0)
		close(pty_slave);
	pty_master = pty_slave = -1;
	rx_len = 0;
}

/* ---- TWI device models -------------------------------------------------------------------- */

static struct i2c_dev *find_dev(uint8_t addr7)
{
	for (int i = 0; i < MAX_DEVICES; i++)
		if (devs[i].used && devs[i].addr == addr7)
			return &devs[i];
	return NULL;
}

static void twi_answer(uint8_t msg, uint8_t addr8, uint8_t data)
{
	avr_raise_irq(twi_irq, avr_twi_irq_msg(msg, addr8, data));
}

static void dev_write(struct i2c_dev *d, uint8_t v)
{
	if (d->kind == DEV_SHT3X) {
		if (d->index < 2)
			d->cmd[d->index] = v;
		if (d->index == 1) {
			uint16_t cmd = (uint16_t)(d->cmd[0] << 8 | d->cmd[1]);
			/* single shot without clock stretching (datasheet table 9) or soft reset */
			d->pending = cmd == 0x2400 || cmd == 0x240b || cmd == 0x2416;
		}
	} else if (d->index == 0) {
		d->pointer = v;
	} else if (d->kind == DEV_REG8) {
		d->regs[d->pointer++] = v;
	} else if (d->index == 1) {
		d->words[d->pointer] = (uint16_t)(v << 8 | (d->words[d->pointer] & 0xff));
	} else if (d->index == 2) {
		d->words[d->pointer] = (uint16_t)((d->words[d->pointer] & 0xff00) | v);
	}
	d->index++;
}

static uint8_t dev_read(struct i2c_dev *d)
{
	uint8_t v;
	if (d->kind == DEV_SHT3X)
		v = d->measurement[d->index % 6];
	else if (d->kind == DEV_REG8)
		v = d->regs[d->pointer++];
	else
		v = d->index % 2 == 0 ? d->words[d->pointer] >> 8 : d->words[d->pointer] & 0xff;
	d->index++;
	return v;
}

/* The AVR's TWI master talking: START/STOP, address, data bytes (simavr's TWI message IRQ). */
static void twi_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	avr_twi_msg_irq_t v;
	v.u.v = value;
	if (v.u.twi.msg & TWI_COND_STOP)
		selected = NULL;
	if (v.u.twi.msg & TWI_COND_START) {
		struct i2c_dev *d = find_dev(v.u.twi.addr >> 1);
		int reading = v.u.twi.addr & 1;
		selected = NULL;
		/* An SHT3x NACKs a read header while it has no measurement (datasheet 4.4). */
		if (d && !(reading && d->kind == DEV_SHT3X && !d->pending)) {
			selected = d;
			d->index = 0;
			twi_answer(TWI_COND_ACK, v.u.twi.addr, 1);
		}
	}
	if (!selected)
		return;
	if (v.u.twi.msg & TWI_COND_WRITE) {
		dev_write(selected, v.u.twi.data);
		twi_answer(TWI_COND_ACK, (uint8_t)(selected->addr << 1), 1);
	}
	if (v.u.twi.msg & TWI_COND_READ) {
		uint8_t data = dev_read(selected);
		if (selected->kind == DEV_SHT3X && selected->index >= 6)
			selected->pending = 0;
		twi_answer(TWI_COND_READ, (uint8_t)(selected->addr << 1 | 1), data);
	}
}

/* ---- commands ----------------------------------------------------------------------------- */

static int parse_hex_bytes(const char *s, uint8_t *out, int max)
{
	int n = 0;
	unsigned int b;
	while (n < max && sscanf(s, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		s += 2;
	}
	return n;
}

static int valid_pin(int pin) { return pin >= 2 && pin < PINS; }

static void command(char *line)
{
	char verb[32] = "", a[64] = "", b[64] = "", c[600] = "";
	int n = sscanf(line, "%31s %63s %63s %599s", verb, a, b, c);
	if (n <= 0)
		return;
	if (!strcmp(verb, "drive") && n == 3 && valid_pin(atoi(a))) {
		ext[atoi(a)] = b[0] == 'z' ? -1 : b[0] == '1';
		update_pads();
		reply("ok");
	} else if (!strcmp(verb, "level") && n == 2 && valid_pin(atoi(a))) {
		reply("ok %d", pad_level(atoi(a)));
	} else if (!strcmp(verb, "wire") && n == 3 && nwires < MAX_WIRES && valid_pin(atoi(a)) &&
		   valid_pin(atoi(b))) {
		wires[nwires][0] = atoi(a);
		wires[nwires][1] = atoi(b);
		nwires++;
		update_pads();
		reply("ok");
	} else if (!strcmp(verb, "analog") && n == 3 && atoi(a) >= 0 && atoi(a) < 6) {
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + atoi(a)),
			      (uint32_t)atoi(b));
		reply("ok");
	} else if (!strcmp(verb, "i2c-attach") && n == 3) {
		uint8_t addr = (uint8_t)strtol(a, NULL, 0);
		struct i2c_dev *d = find_dev(addr);
		for (int i = 0; !d && i < MAX_DEVICES; i++)
			if (!devs[i].used)
				d = &devs[i];
		if (!d)
			return reply("err too many devices");
		memset(d, 0, sizeof(*d));
		d->used = 1;
		d->addr = addr;
		d->kind = !strcmp(b, "reg16") ? DEV_REG16 : !strcmp(b, "sht3x") ? DEV_SHT3X : DEV_REG8;
		reply("ok");
	} else if (!strcmp(verb, "i2c-detach") && n == 2) {
		struct i2c_dev *d = find_dev((uint8_t)strtol(a, NULL, 0));
		if (d)
			d->used = 0;
		reply("ok");
	} else if (!strcmp(verb, "i2c-set") && n == 4) {
		struct i2c_dev *d = find_dev((uint8_t)strtol(a, NULL, 0));
		uint8_t bytes[256];
		int len = parse_hex_bytes(c, bytes, 256);
		int reg = (int)strtol(b, NULL, 0) & 0xff;
		if (!d)
			return reply("err no device");
		for (int i = 0; i < len; i++) {
			if (d->kind == DEV_REG8)
				d->regs[(reg + i) & 0xff] = bytes[i];
			else if (d->kind == DEV_SHT3X && i < 6)
				d->measurement[i] = bytes[i];
			else if (d->kind == DEV_REG16 && i % 2 == 1)
				d->words[(reg + i / 2) & 0xff] = (uint16_t)(bytes[i - 1] << 8 | bytes[i]);
		}
		reply("ok");
	} else if (!strcmp(verb, "i2c-get") && n == 4) {
		struct i2c_dev *d = find_dev((uint8_t)strtol(a, NULL, 0));
		int reg = (int)strtol(b, NULL, 0) & 0xff, len = atoi(c);
		char out[600] = "";
		if (!d || len < 0 || len > 256)
			return reply("err no device");
		for (int i = 0; i < len; i++) {
			unsigned v = d->kind == DEV_REG8 ? d->regs[(reg + i) & 0xff]
				     : i % 2 == 0	? d->words[(reg + i / 2) & 0xff] >> 8
							: d->words[(reg + i / 2) & 0xff] & 0xff;
			snprintf(out + 2 * i, 3, "%02x", v);
		}
		reply("ok %s", out);
	} else if (!strcmp(verb, "unplug")) {
		unplug();
		reply("ok");
	} else if (!strcmp(verb, "plug")) {
		if (pty_master < 0 && !strcmp(a, "reset"))
			avr_reset(avr);
		if (pty_master < 0 && plug() < 0)
			return reply("err %s", strerror(errno));
		reply("ok %s", ptsname(pty_master));
	} else if (!strcmp(verb, "reset")) {
		avr_reset(avr);
		reply("ok");
	} else if (!strcmp(verb, "quit")) {
		unplug();
		reply("ok");
		exit(0);
	} else {
		reply("err bad command: %s", line);
	}
}

/* ---- main loop ----------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void poll_outside(void)
{
	static char cmd[1024];
	static size_t cmd_len;
	struct pollfd fds[2] = { { .fd = 0, .events = POLLIN }, { .fd = pty_master, .events = POLLIN } };
	if (poll(fds, pty_master >= 0 ? 2 : 1, 0) <= 0)
		return;
	if (fds[0].revents & (POLLIN | POLLHUP)) {
		ssize_t r = read(0, cmd + cmd_len, sizeof(cmd) - 1 - cmd_len);
		if (r <= 0)
			exit(0); /* the test went away */
		cmd_len += (size_t)r;
		char *nl;
		while ((nl = memchr(cmd, '\n', cmd_len))) {
			*nl = 0;
			command(cmd);
			cmd_len -= (size_t)(nl + 1 - cmd);
			memmove(cmd, nl + 1, cmd_len);
		}
		if (cmd_len == sizeof(cmd) - 1)
			cmd_len = 0;
	}
	if (pty_master >= 0 && (fds[1].revents & POLLIN) && rx_len < sizeof(rx_buf)) {
		ssize_t r = read(pty_master, rx_buf + rx_len, sizeof(rx_buf) - rx_len);
		if (r > 0)
			rx_len += (size_t)r;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s FIRMWARE.hex LINK_PATH\n", argv[0]);
		return 2;
	}
	link_path = argv[2];
	for (int i = 0; i < PINS; i++)
		ext[i] = -1;
	avr_global_logger_set(quiet_logger);
	avr = avr_make_mcu_by_name("atmega328p");
	if (!avr)
		return fprintf(stderr, "simavr has no atmega328p\n"), 1;
	avr_init(avr);
	avr->frequency = 16000000;
	avr->vcc = avr->avcc = avr->aref = 5000;
	avr->log = LOG_WARNING;
	uint32_t size, base;
	uint8_t *image = read_ihex_file(argv[1], &size, &base);
	if (!image)
		return fprintf(stderr, "cannot read %s\n", argv[1]), 1;
	memcpy(avr->flash + base, image, size);
	free(image);
	avr->pc = 0;
	avr->codeend = avr->flashend;

	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	/* No console echo of UART lines, no sleeping on empty polls: this loop paces the MCU. */
	flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
				uart_out_hook, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
				uart_xon_hook, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
				uart_xoff_hook, NULL);
	static const char *names[] = { "8>rig.twi.in", "32<rig.twi.out" };
	avr_irq_t *rig = avr_alloc_irq(&avr->irq_pool, 0, 2, names);
	twi_irq = avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_INPUT);
	avr_irq_register_notify(rig + 1, twi_hook, NULL);
	avr_connect_irq(avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_OUTPUT), rig + 1);

	if (plug() < 0)
		return perror("pty"), 1;
	reply("ready %s", ptsname(pty_master));

	uint64_t start_ns = now_ns();
	avr_cycle_count_t start_cycle = avr->cycle;
	for (;;) {
		avr_cycle_count_t until = avr->cycle + SLICE_CYCLES;
		while (avr->cycle < until) {
			int state = avr_run(avr);
			if (state == cpu_Done || state == cpu_Crashed) {
				fprintf(stderr, "MCU stopped (state %d) at pc 0x%x\n", state, avr->pc);
				return 1;
			}
		}
		poll_outside();
		feed_uart();
		update_pads();
		/* Real time: sleep off whatever the MCU is ahead of the wall clock. */
		uint64_t sim_ns = (avr->cycle - start_cycle) * 1000000000ull / avr->frequency;
		uint64_t wall_ns = now_ns() - start_ns;
		if (sim_ns > wall_ns + 200000) {
			struct timespec ts = { 0, (long)(sim_ns - wall_ns) };
			nanosleep(&ts, NULL);
		} else if (wall_ns > sim_ns + 50000000ull) {
			/* a loaded host fell behind: do not try to catch up in a burst */
			start_ns = now_ns();
			start_cycle = avr->cycle;
		}
	}
}
