def render_cloud_init(profile, options): raise NotImplementedError
