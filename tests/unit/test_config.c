/* test_config.c — warren.conf: defaults, the shipped file, overrides from the
 * environment, and clear errors for what warren does not understand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "front/config.h"

static char dir[64];

static const char *write_conf(const char *text)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/warren.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/wr-config-XXXXXX");
	assert_non_null(mkdtemp(dir));
	unsetenv("WARREN_CONFIG");
	unsetenv("WARREN_STATE_DIR");
	unsetenv("WARREN_ROOT");
	unsetenv("WARREN_RUNTIME");
	unsetenv("WARREN_LOG_LEVEL");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/warren.conf", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

static void test_shipped_file_is_the_defaults(void **state)
{
	(void)state;
	struct wr_config c, d;
	struct wr_error err;
	assert_int_equal(wr_config_load(&c, "src/daemon/warren.conf", &err), 0);
	assert_string_equal(c.path, "src/daemon/warren.conf");
	assert_string_equal(c.state_dir, "/run/warren");
	assert_string_equal(c.root_dir, "/var/lib/warren");
	assert_string_equal(c.runtime, "runc");
	assert_string_equal(c.runtime_root, "");
	assert_int_equal(c.unprivileged_ports, 1);
	assert_int_equal(c.unprivileged_icmp, 1);
	assert_int_equal(c.log_level, WR_LOG_INFO);
	/* uncommenting every setting of the shipped file changes nothing */
	FILE *f = fopen("src/daemon/warren.conf", "r");
	assert_non_null(f);
	char text[8192] = "", line[512];
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "# ", 2) == 0 && strchr(line, '=') && !strchr(line, ':'))
			strcat(text, line + 2);
		else if (line[0] == '[')
			strcat(text, line);
	fclose(f);
	assert_int_equal(wr_config_load(&d, write_conf(text), &err), 0);
	assert_string_equal(d.state_dir, c.state_dir);
	assert_string_equal(d.root_dir, c.root_dir);
	assert_string_equal(d.runtime, c.runtime);
	assert_string_equal(d.runtime_root, c.runtime_root);
	assert_int_equal(d.unprivileged_ports, c.unprivileged_ports);
	assert_int_equal(d.unprivileged_icmp, c.unprivileged_icmp);
	assert_int_equal(d.log_level, c.log_level);
}

static void test_values_and_environment(void **state)
{
	(void)state;
	struct wr_config c;
	struct wr_error err;
	const char *p = write_conf("[daemon]\nstate_dir = /srv/state\nlog_level = debug\n"
				   "[ns]\nruntime = /opt/runc\nruntime_root = /srv/runc\n"
				   "unprivileged_ports = false\n");
	setenv("WARREN_CONFIG", p, 1);
	assert_int_equal(wr_config_load(&c, NULL, &err), 0);
	assert_string_equal(c.state_dir, "/srv/state");
	assert_string_equal(c.root_dir, "/var/lib/warren");
	assert_string_equal(c.runtime, "/opt/runc");
	assert_string_equal(c.runtime_root, "/srv/runc");
	assert_int_equal(c.unprivileged_ports, 0);
	assert_int_equal(c.unprivileged_icmp, 1);
	assert_int_equal(c.log_level, WR_LOG_DEBUG);
	setenv("WARREN_STATE_DIR", "/tmp/elsewhere", 1);
	setenv("WARREN_LOG_LEVEL", "warn", 1);
	assert_int_equal(wr_config_load(&c, NULL, &err), 0);
	assert_string_equal(c.state_dir, "/tmp/elsewhere");
	assert_int_equal(c.log_level, WR_LOG_WARN);
	unsetenv("WARREN_STATE_DIR");
	unsetenv("WARREN_LOG_LEVEL");
	unsetenv("WARREN_CONFIG");
}

static void test_errors_name_the_line(void **state)
{
	(void)state;
	struct wr_config c;
	struct wr_error err;
	const char *p = write_conf("[daemon]\nstate_dir = /x\nstat_dir = /y\n");
	assert_int_equal(wr_config_load(&c, p, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, ":3: unknown setting stat_dir in [daemon]"));
	p = write_conf("[vm]\nkernel = /boot/vmlinuz\n");
	assert_int_equal(wr_config_load(&c, p, &err), -1);
	assert_non_null(strstr(err.msg, ":2: unknown section [vm]"));
	p = write_conf("[daemon]\nroot_dir = relative/path\n");
	assert_int_equal(wr_config_load(&c, p, &err), -1);
	assert_non_null(strstr(err.msg, "root_dir must be an absolute path"));
	p = write_conf("[daemon]\nlog_level = loud\n");
	assert_int_equal(wr_config_load(&c, p, &err), -1);
	assert_non_null(strstr(err.msg, "log_level \"loud\""));
	p = write_conf("[ns]\nunprivileged_icmp = yes\n");
	assert_int_equal(wr_config_load(&c, p, &err), -1);
	assert_non_null(strstr(err.msg, ":2: unprivileged_icmp must be true or false"));
	p = write_conf("[daemon\nstate_dir = /x\n");
	assert_int_equal(wr_config_load(&c, p, &err), -1);
	assert_non_null(strstr(err.msg, ":1: syntax error"));
	/* a file named explicitly must exist */
	assert_int_equal(wr_config_load(&c, "/nonexistent/warren.conf", &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/warren.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shipped_file_is_the_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_and_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_the_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
