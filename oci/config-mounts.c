/* config.json "mounts": each mount's options split the way runc splits
 * them, into flags to set, flags to clear, propagation, bind and fs data. */
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "oci/config-internal.h"
#include "util.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{"defaults", false, 0},
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"suid", true, MS_NOSUID},
	{"nosuid", false, MS_NOSUID},
	{"dev", true, MS_NODEV},
	{"nodev", false, MS_NODEV},
	{"exec", true, MS_NOEXEC},
	{"noexec", false, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC},
	{"remount", false, MS_REMOUNT},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
	{"atime", true, MS_NOATIME},
	{"noatime", false, MS_NOATIME},
	{"diratime", true, MS_NODIRATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"lazytime", false, MS_LAZYTIME},
	{"nolazytime", true, MS_LAZYTIME},
	{"silent", false, MS_SILENT},
	{"loud", true, MS_SILENT},
	{"iversion", false, MS_I_VERSION},
	{"noiversion", true, MS_I_VERSION},
	{"symfollow", true, MS_NOSYMFOLLOW},
	{"nosymfollow", false, MS_NOSYMFOLLOW},
};

static const struct {
	const char *name;
	unsigned long flag;
} propagations[] = {
	{"private", MS_PRIVATE},
	{"rprivate", MS_PRIVATE | MS_REC},
	{"shared", MS_SHARED},
	{"rshared", MS_SHARED | MS_REC},
	{"slave", MS_SLAVE},
	{"rslave", MS_SLAVE | MS_REC},
	{"unbindable", MS_UNBINDABLE},
	{"runbindable", MS_UNBINDABLE | MS_REC},
};

/* runc's recursive mount attributes (mount_setattr). As fs data they would
 * be ignored on a bind mount, silently dropping e.g. "rro"; refuse them. */
static const char *const recursive_attrs[] = {
	"rro",	       "rrw",	       "rnosuid",	 "rsuid",
	"rnodev",      "rdev",	       "rnoexec",	 "rexec",
	"rnodiratime", "rdiratime",    "rrelatime",	 "rnorelatime",
	"rnoatime",    "ratime",       "rstrictatime",	 "rnostrictatime",
	"rnosymfollow", "rsymfollow",
};

unsigned long oci_propagation_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (strcmp(propagations[i].name, name) == 0)
			return propagations[i].flag;
	return 0;
}

static bool set_flag(struct oci_mount *m, const char *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++) {
		if (strcmp(mount_flags[i].name, o) != 0)
			continue;
		if (mount_flags[i].clear) {
			m->flags &= ~mount_flags[i].flag;
			m->clear_flags |= mount_flags[i].flag;
		} else {
			m->flags |= mount_flags[i].flag;
			m->clear_flags &= ~mount_flags[i].flag;
		}
		return true;
	}
	return false;
}

static int refused_option(const struct jpath *p, const char *o,
			  struct rt_err **err)
{
	if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0 ||
	    rt_has_prefix(o, "idmap=") || rt_has_prefix(o, "ridmap="))
		return oci_jp_err(err, p,
				  "id-mapped mounts (\"%s\") are not supported by ferry",
				  o);
	for (size_t i = 0; i < ARRAY_SIZE(recursive_attrs); i++)
		if (strcmp(o, recursive_attrs[i]) == 0)
			return oci_jp_err(err, p,
					  "recursive mount attribute \"%s\" is not supported by ferry",
					  o);
	if (strcmp(o, "tmpcopyup") == 0)
		return oci_jp_err(err, p,
				  "\"tmpcopyup\" is not supported by ferry");
	return 0;
}

static int apply_option(const struct jpath *p, struct oci_mount *m,
			const char *o, struct rt_err **err)
{
	unsigned long prop;
	if (o[0] == '\0')
		return oci_jp_err(err, p, "must not be empty");
	if (set_flag(m, o))
		return 0;
	if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
		m->bind = true;
		m->recursive = m->recursive || o[0] == 'r';
		return 0;
	}
	if ((prop = oci_propagation_from_name(o)) != 0) {
		m->propagation = prop;
		return 0;
	}
	if (refused_option(p, o, err) < 0)
		return -1;
	if (m->data == NULL) {
		m->data = xstrdup(o);
	} else {
		char *d = xasprintf("%s,%s", m->data, o);
		free(m->data);
		m->data = d;
	}
	return 0;
}

static int parse_mount(const struct jpath *p, yajl_val v, struct oci_mount *m,
		       struct rt_err **err)
{
	yajl_val dest;
	static const struct oci_refused refused[] = {
		{"uidMappings", "id-mapped mounts"},
		{"gidMappings", "id-mapped mounts"},
	};
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jrefuse(p, v, refused, ARRAY_SIZE(refused), err) < 0)
		return -1;
	if (oci_jf_req(p, v, "destination", &dest, err) < 0 ||
	    oci_jabs(JP_KEY(p, "destination"), dest, &m->destination, err) < 0)
		return -1;
	if (oci_jf_str(p, v, "type", &m->type, err) < 0 ||
	    oci_jf_str(p, v, "source", &m->source, err) < 0 ||
	    oci_jf_strv(p, v, "options", &m->options, err) < 0)
		return -1;
	if (m->type && strcmp(m->type, "bind") == 0)
		m->bind = true;
	for (size_t i = 0; m->options && m->options[i]; i++)
		if (apply_option(JP_IDX(JP_KEY(p, "options"), i), m,
				 m->options[i], err) < 0)
			return -1;
	return 0;
}

int oci_parse_mounts(const struct jpath *p, yajl_val v, struct oci_config *c,
		     struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	c->mounts = xcalloc(n, sizeof(struct oci_mount));
	c->n_mounts = n;
	for (size_t i = 0; i < n; i++)
		if (parse_mount(JP_IDX(p, i), v->u.array.values[i],
				&c->mounts[i], err) < 0)
			return -1;
	return 0;
}

void oci_mounts_free(struct oci_mount *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].destination);
		free(m[i].type);
		free(m[i].source);
		rt_strv_free(m[i].options);
		free(m[i].data);
	}
	free(m);
}
