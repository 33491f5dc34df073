// The registration page's captcha, from verifyd's /api/v1/: an image under
// an id the server chose, and the same challenge spoken as digits for people
// who cannot read the image.
'use strict';

// newCaptcha drives the <img> and <audio> elements it is given. onChange is
// called when the challenge (or its kind) changes; onError with a message
// when one cannot be had.
window.newCaptcha = ({ img, audio, timeoutMs, onChange, onError, t }) => {
	const state = {
		id: '',
		// 'image' or 'audio': the answer of the other no longer works.
		kind: 'image',
		// Only the latest request may change the captcha: a slow answer to
		// an earlier click must not replace a newer image.
		seq: 0,
		objectURL: '',
	};

	const signal = () => (typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : undefined);

	// errorOf reads verifyd's {code, errmsg} from a refusal, in the page's
	// language (the browser sends its Accept-Language).
	async function errorOf(res) {
		try {
			const a = await res.json();
			if (a && typeof a.errmsg === 'string' && a.errmsg) return a.errmsg;
		} catch {
			// Not verifyd's answer.
		}
		return t('unexpected', { status: res.status });
	}

	function dropAudio() {
		audio.pause();
		audio.removeAttribute('src');
		audio.hidden = true;
		if (state.objectURL) URL.revokeObjectURL(state.objectURL);
		state.objectURL = '';
	}

	// load asks for a new challenge under a new id; the old one is left to
	// expire on the server.
	async function load() {
		const seq = ++state.seq;
		img.classList.add('loading');
		dropAudio();
		let res;
		try {
			res = await fetch('/api/v1/captchas', { method: 'POST', cache: 'no-store', signal: signal() });
		} catch {
			if (seq === state.seq) onError(t('network'));
			return;
		}
		if (seq !== state.seq) return;
		if (res.status !== 201) {
			img.classList.remove('loading');
			onError(await errorOf(res));
			return;
		}
		const c = await res.json();
		if (seq !== state.seq) return;
		state.id = c.id;
		state.kind = 'image';
		img.classList.remove('spent');
		img.dataset.uuid = c.id;
		// The image comes inline: a second request for it would draw a new
		// answer.
		img.src = c.image;
		onChange();
	}

	// listen replaces the challenge's answer with digits and plays them. The
	// recording is fetched once and played from memory: replaying or seeking
	// must not ask the server again, which would change the digits.
	async function listen() {
		if (!state.id) return;
		const seq = ++state.seq;
		let res;
		try {
			res = await fetch('/api/v1/captchas/' + state.id + '/audio', { cache: 'no-store', signal: signal() });
		} catch {
			if (seq === state.seq) onError(t('network'));
			return;
		}
		if (seq !== state.seq) return;
		if (res.status === 404) {
			// Expired or spent: start over with a new challenge.
			await load();
			return;
		}
		if (!res.ok) {
			onError(await errorOf(res));
			return;
		}
		const blob = await res.blob();
		if (seq !== state.seq) return;
		dropAudio();
		state.kind = 'audio';
		img.classList.add('spent');
		state.objectURL = URL.createObjectURL(blob);
		audio.dataset.uuid = state.id;
		audio.dataset.type = blob.type;
		audio.src = state.objectURL;
		audio.hidden = false;
		onChange();
		// The click that asked for it lets the page play sound.
		audio.play().catch(() => {});
	}

	return {
		load,
		listen,
		id: () => state.id,
		kind: () => state.kind,
	};
};
