/* config.json: the top level (ociVersion, root, hostname, hooks,
 * annotations) and the checks that span sections. The sections themselves
 * live in config-process.c, config-mounts.c, config-linux.c,
 * config-resources.c and config-seccomp.c. */
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config-internal.h"
#include "util.h"

static const char *const hook_names[OCI_HOOK_KINDS] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind k)
{
	if ((unsigned)k >= OCI_HOOK_KINDS)
		return NULL;
	return hook_names[k];
}

static int parse_hook(const struct jpath *p, yajl_val v, struct oci_hook *h,
		      struct rt_err **err)
{
	yajl_val path, env;
	int64_t t;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	if (oci_jf_req(p, v, "path", &path, err) < 0 ||
	    oci_jabs(JP_KEY(p, "path"), path, &h->path, err) < 0)
		return -1;
	if (oci_jf_strv(p, v, "args", &h->args, err) < 0)
		return -1;
	if ((env = oci_jget(v, "env")) &&
	    oci_parse_env(JP_KEY(p, "env"), env, &h->env, err) < 0)
		return -1;
	if (oci_jf_int(p, v, "timeout", 1, INT_MAX, &h->has_timeout, &t,
		       err) < 0)
		return -1;
	if (h->has_timeout)
		h->timeout = (int)t;
	return 0;
}

static int parse_hooks(const struct jpath *p, yajl_val v,
		       struct oci_hook_list *lists, struct rt_err **err)
{
	if (oci_jobj(p, v, err) < 0)
		return -1;
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		const struct jpath *kp = JP_KEY(p, hook_names[k]);
		yajl_val a = oci_jget(v, hook_names[k]);
		size_t n;
		if (a == NULL)
			continue;
		if (oci_jarr(kp, a, &n, err) < 0)
			return -1;
		lists[k].hooks = xcalloc(n, sizeof(struct oci_hook));
		lists[k].n = n;
		for (size_t i = 0; i < n; i++)
			if (parse_hook(JP_IDX(kp, i), a->u.array.values[i],
				       &lists[k].hooks[i], err) < 0)
				return -1;
	}
	return 0;
}

static int parse_root(const struct jpath *p, yajl_val v, struct oci_root *r,
		      struct rt_err **err)
{
	yajl_val path;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	if (oci_jf_req(p, v, "path", &path, err) < 0 ||
	    oci_jstr(JP_KEY(p, "path"), path, &r->path, err) < 0)
		return -1;
	if (r->path[0] == '\0')
		return oci_jp_err(err, JP_KEY(p, "path"), "must not be empty");
	return oci_jf_bool(p, v, "readonly", &r->readonly, err);
}

/* "" is Go's "not set": runc leaves the names alone then. */
static void empty_to_null(char **s)
{
	if (*s && (*s)[0] == '\0') {
		free(*s);
		*s = NULL;
	}
}

static bool has_namespace(const struct oci_linux *l, int type)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type == type)
			return true;
	return false;
}

/* The host's names must not be changed from a container that shares the
 * host's UTS namespace. */
static int check_uts(const struct oci_config *c, struct rt_err **err)
{
	if (has_namespace(&c->linux_, CLONE_NEWUTS))
		return 0;
	if (c->hostname)
		return oci_jp_err(err, JP_KEY(NULL, "hostname"),
				  "setting the hostname needs a \"uts\" namespace in linux.namespaces");
	if (c->domainname)
		return oci_jp_err(err, JP_KEY(NULL, "domainname"),
				  "setting the domainname needs a \"uts\" namespace in linux.namespaces");
	return 0;
}

static int parse_top(yajl_val root, struct oci_config *c, struct rt_err **err)
{
	yajl_val v;
	if (oci_jf_req(NULL, root, "ociVersion", &v, err) < 0 ||
	    oci_jstr(JP_KEY(NULL, "ociVersion"), v, &c->oci_version, err) < 0)
		return -1;
	if (oci_jf_req(NULL, root, "root", &v, err) < 0 ||
	    parse_root(JP_KEY(NULL, "root"), v, &c->root, err) < 0)
		return -1;
	if (oci_jf_str(NULL, root, "hostname", &c->hostname, err) < 0 ||
	    oci_jf_str(NULL, root, "domainname", &c->domainname, err) < 0)
		return -1;
	empty_to_null(&c->hostname);
	empty_to_null(&c->domainname);
	if ((v = oci_jget(root, "mounts")) &&
	    oci_parse_mounts(JP_KEY(NULL, "mounts"), v, c, err) < 0)
		return -1;
	if ((v = oci_jget(root, "process")) &&
	    oci_parse_process(JP_KEY(NULL, "process"), v, &c->process, err) < 0)
		return -1;
	if ((v = oci_jget(root, "hooks")) &&
	    parse_hooks(JP_KEY(NULL, "hooks"), v, c->hooks, err) < 0)
		return -1;
	if ((v = oci_jget(root, "annotations")) &&
	    oci_jmap(JP_KEY(NULL, "annotations"), v, &c->annotation_keys,
		     &c->annotation_values, &c->n_annotations, err) < 0)
		return -1;
	if ((v = oci_jget(root, "linux")) &&
	    oci_parse_linux(JP_KEY(NULL, "linux"), v, &c->linux_, err) < 0)
		return -1;
	return check_uts(c, err);
}

int oci_config_parse(const char *json, size_t len, struct oci_config **out,
		     struct rt_err **err)
{
	yajl_val root;
	if (oci_json_parse(json, len, &root, err) < 0)
		return -1;
	struct oci_config *c = xcalloc(1, sizeof(*c));
	int r = parse_top(root, c, err);
	yajl_tree_free(root);
	if (r < 0) {
		oci_config_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int oci_config_load(const char *path, struct oci_config **out,
		    struct rt_err **err)
{
	cleanup_free char *text = NULL;
	size_t len;
	if (rt_read_file(path, &text, &len, err) < 0)
		return -1;
	if (oci_config_parse(text, len, out, err) < 0)
		return rt_err_wrap(err, "%s", path);
	return 0;
}

static void hook_list_clear(struct oci_hook_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->hooks[i].path);
		rt_strv_free(l->hooks[i].args);
		rt_strv_free(l->hooks[i].env);
	}
	free(l->hooks);
}

void oci_config_free(struct oci_config *c)
{
	if (c == NULL)
		return;
	free(c->oci_version);
	free(c->root.path);
	free(c->hostname);
	free(c->domainname);
	oci_mounts_free(c->mounts, c->n_mounts);
	oci_process_free(c->process);
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		hook_list_clear(&c->hooks[k]);
	rt_strv_free(c->annotation_keys);
	rt_strv_free(c->annotation_values);
	oci_linux_clear(&c->linux_);
	free(c);
}

void oci_config_freep(struct oci_config **c)
{
	oci_config_free(*c);
	*c = NULL;
}
