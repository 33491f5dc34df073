// verifyd registration page: image code, SMS code and its verification.
// Hand-written, no framework, no build step. The server's CSP allows only
// same-origin scripts, so every handler is attached here, and the settings
// come from data- attributes on <main id="register">.
'use strict';

(() => {
	const root = document.getElementById('register');
	const $ = (id) => document.getElementById(id);
	const el = {
		form: $('register-form'),
		fields: $('register-fields'),
		mobile: $('mobile'),
		mobileHint: $('mobile-hint'),
		mobileMsg: $('mobile-msg'),
		imageCode: $('image-code'),
		imageCodeMsg: $('image-code-msg'),
		captcha: $('captcha'),
		newCaptcha: $('new-captcha'),
		listen: $('listen-captcha'),
		audio: $('captcha-audio'),
		imageCodeHint: $('image-code-hint'),
		smsCode: $('sms-code'),
		smsCodeMsg: $('sms-code-msg'),
		sendSMS: $('send-sms'),
		verify: $('verify'),
		result: $('result'),
	};

	const intData = (name, fallback) => {
		const n = Number.parseInt(root.dataset[name], 10);
		return Number.isFinite(n) && n > 0 ? n : fallback;
	};
	const config = {
		developmentSMS: root.dataset.developmentSms === 'true',
		region: (root.dataset.defaultRegion || '').toUpperCase(),
		captchaLength: intData('captchaLength', 4),
		audioLength: intData('audioLength', 6),
		codeLength: intData('codeLength', 6),
		resendSeconds: intData('resendSeconds', 60),
	};
	const requestTimeoutMs = 15000;

	// The page's texts, in the language the server chose for this page; t
	// fills in {placeholders} from vars.
	const texts = (() => {
		try {
			return JSON.parse(root.dataset.texts || '{}');
		} catch {
			return {};
		}
	})();
	const t = (key, vars) => (texts[key] || key).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));

	const mobile = window.newMobileCheck({ region: config.region, t });
	const { plan } = mobile;
	const compactMobile = mobile.compact;
	const mobileProblem = mobile.problem;

	const state = {
		requesting: false,
		verifying: false,
		sentOnce: false,
		// The countdown belongs to one number: fixing a typo in the number
		// must not wait for another number's interval.
		countdownFor: '',
		countdownEnd: 0,
		timer: 0,
		mobileTouched: false,
	};

	function setMsg(node, text, kind) {
		node.textContent = text;
		node.className = text ? 'msg ' + (kind || 'error') : 'msg';
	}

	function setInvalid(input, invalid) {
		if (invalid) input.setAttribute('aria-invalid', 'true');
		else input.removeAttribute('aria-invalid');
	}

	// The captcha comes from /api/v1/ (captcha.js): an image under an id the
	// server chose, or the same challenge spoken as digits.
	const captcha = window.newCaptcha({
		img: el.captcha,
		audio: el.audio,
		timeoutMs: requestTimeoutMs,
		t,
		onChange: () => {
			const audio = captcha.kind() === 'audio';
			el.imageCode.maxLength = answerLength();
			el.imageCode.inputMode = audio ? 'numeric' : 'text';
			el.imageCodeHint.textContent = audio ? t('audioHint') : t('imageHint');
			update();
		},
		onError: (msg) => setMsg(el.imageCodeMsg, msg),
	});
	const loadCaptcha = () => captcha.load();
	// answerLength is how many characters the current challenge wants.
	const answerLength = () => (captcha.kind() === 'audio' ? config.audioLength : config.captchaLength);

	// fresh changes the challenge at the user's request: the typed answer
	// belongs to the old one.
	function fresh(change) {
		if (el.fields.disabled) return;
		change();
		el.imageCode.value = '';
		setInvalid(el.imageCode, false);
		setMsg(el.imageCodeMsg, '');
		update();
		el.imageCode.focus();
	}
	const newCaptchaByUser = () => fresh(loadCaptcha);
	const listenByUser = () => fresh(captcha.listen);

	const mobileValue = () => compactMobile(el.mobile.value);
	const imageCodeValue = () => el.imageCode.value.trim();
	const smsCodeValue = () => el.smsCode.value.trim();
	const smsCodeComplete = () => new RegExp('^\\d{' + config.codeLength + '}$').test(smsCodeValue());

	// duration says how long a wait is: "45 s", or "3 min" past a minute
	// (an address-wide limit can last an hour).
	const duration = (seconds) => (seconds > 60 ? t('minutes', { n: Math.ceil(seconds / 60) }) : t('seconds', { n: seconds }));

	function countdownLeft() {
		if (!state.countdownEnd || state.countdownFor !== mobileValue()) return 0;
		return Math.max(0, Math.ceil((state.countdownEnd - Date.now()) / 1000));
	}

	function startCountdown(seconds) {
		state.countdownFor = mobileValue();
		state.countdownEnd = Date.now() + seconds * 1000;
		tick();
	}

	function tick() {
		clearTimeout(state.timer);
		update();
		const left = state.countdownEnd - Date.now();
		if (left > 0) {
			// Wake at the next whole second, so the label never skips one.
			state.timer = setTimeout(tick, (left % 1000) || 1000);
		} else {
			state.countdownEnd = 0;
			update();
		}
	}

	// update derives every control's state from the fields and the state.
	function update() {
		const mobileOK = mobileProblem(el.mobile.value) === '';
		const left = countdownLeft();
		const imageOK = imageCodeValue().length === answerLength();

		el.sendSMS.disabled = state.requesting || left > 0 || !mobileOK || !imageOK;
		el.sendSMS.setAttribute('aria-busy', String(state.requesting));
		if (state.requesting) el.sendSMS.textContent = t('sending');
		else if (left > 0) el.sendSMS.textContent = t('resendIn', { t: duration(left) });
		else el.sendSMS.textContent = state.sentOnce ? t('resend') : t('getSMS');

		el.verify.disabled = state.verifying || !mobileOK || !smsCodeComplete();
		el.verify.setAttribute('aria-busy', String(state.verifying));
		el.verify.textContent = state.verifying ? t('verifying') : t('verify');
	}

	// checkMobile marks the number valid as soon as it is, and says what is
	// wrong once the user has left the field (or typed a character that can
	// never be right), not at the first keystroke.
	function checkMobile(show) {
		const problem = mobileProblem(el.mobile.value);
		const empty = el.mobile.value.trim() === '';
		show = show || /[^\d+]/.test(compactMobile(el.mobile.value));
		el.mobile.classList.toggle('valid', problem === '');
		if (show && !empty) {
			setInvalid(el.mobile, problem !== '');
			setMsg(el.mobileMsg, problem);
		} else if (problem === '' || empty) {
			setInvalid(el.mobile, false);
			setMsg(el.mobileMsg, '');
		}
		return problem === '';
	}

	// api posts JSON and returns verifyd's answer; a network failure or an
	// answer that is not verifyd's becomes a "5000"-like answer.
	async function api(path, body) {
		let res;
		try {
			res = await fetch(path, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
				body: JSON.stringify(body),
				cache: 'no-store',
				credentials: 'same-origin',
				signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(requestTimeoutMs) : undefined,
			});
		} catch {
			return { code: 'network', errmsg: t('network') };
		}
		let answer = null;
		try {
			answer = await res.json();
		} catch {
			// Not JSON: handled below.
		}
		if (!answer || typeof answer.code !== 'string') {
			return { code: 'http', errmsg: t('unexpected', { status: res.status }) };
		}
		const retryAfter = Number.parseInt(res.headers.get('Retry-After') || '', 10);
		return { code: answer.code, errmsg: answer.errmsg || t('wentWrong'), retryAfter };
	}

	async function requestSMS() {
		if (state.requesting || el.sendSMS.disabled) return;
		if (!checkMobile(true)) return;
		state.requesting = true;
		setMsg(el.smsCodeMsg, '');
		setMsg(el.imageCodeMsg, '');
		setInvalid(el.imageCode, false);
		update();

		const a = await api('/api/v1/sms-codes', { mobile: mobileValue(), captcha_id: captcha.id(), captcha_answer: imageCodeValue() });

		state.requesting = false;
		// A captcha that was checked is spent, right or wrong, and the
		// page cannot tell which refusals came before the check, so each
		// answer gets a new image and a new answer.
		loadCaptcha();
		el.imageCode.value = '';

		switch (a.code) {
		case '0':
			state.sentOnce = true;
			startCountdown(config.resendSeconds);
			setMsg(el.smsCodeMsg, config.developmentSMS ? t('sentDev') : t('sent'), 'info');
			el.smsCode.focus();
			break;
		case '4001':
			setInvalid(el.imageCode, true);
			setMsg(el.imageCodeMsg, t('typeNewImage', { msg: a.errmsg }));
			el.imageCode.focus();
			break;
		case '4002': {
			const wait = Number.isFinite(a.retryAfter) && a.retryAfter > 0 ? a.retryAfter : config.resendSeconds;
			startCountdown(wait);
			setMsg(el.smsCodeMsg, t('askNewIn', { msg: a.errmsg, t: duration(wait) }));
			el.smsCode.focus();
			break;
		}
		case '4007':
			setInvalid(el.mobile, true);
			setMsg(el.mobileMsg, t('sentence', { msg: a.errmsg }));
			el.mobile.focus();
			break;
		default:
			setMsg(el.smsCodeMsg, a.errmsg);
			el.imageCode.focus();
		}
		update();
	}

	async function verify() {
		if (state.verifying || el.verify.disabled) return;
		state.verifying = true;
		setMsg(el.smsCodeMsg, '');
		setInvalid(el.smsCode, false);
		update();

		const a = await api('/api/v1/sms-codes/verify', { mobile: mobileValue(), code: smsCodeValue() });

		state.verifying = false;
		if (a.code === '0') {
			showSuccess();
		} else {
			if (a.code === '4007') {
				setInvalid(el.mobile, true);
				setMsg(el.mobileMsg, t('sentence', { msg: a.errmsg }));
			} else {
				setInvalid(el.smsCode, a.code === '4008' || a.code === '4003');
				setMsg(el.smsCodeMsg, a.code === '4008'
					? t('checkCode', { msg: a.errmsg })
					: a.errmsg);
			}
			// Ready to type the code again over the old one.
			el.smsCode.focus();
			el.smsCode.select();
		}
		update();
	}

	function showSuccess() {
		el.result.className = 'result ok';
		el.result.textContent = t('verified', { mobile: el.mobile.value.trim() });
		const again = document.createElement('button');
		again.type = 'button';
		again.id = 'start-again';
		again.className = 'btn btn-quiet';
		again.textContent = t('again');
		again.addEventListener('click', startAgain);
		el.result.append(document.createElement('br'), again);
		el.fields.disabled = true;
		setMsg(el.smsCodeMsg, '');
		again.focus();
	}

	function startAgain() {
		el.result.textContent = '';
		el.result.className = 'result';
		el.fields.disabled = false;
		el.form.reset();
		state.mobileTouched = false;
		for (const input of [el.mobile, el.imageCode, el.smsCode]) setInvalid(input, false);
		for (const msg of [el.mobileMsg, el.imageCodeMsg, el.smsCodeMsg]) setMsg(msg, '');
		el.mobile.classList.remove('valid');
		loadCaptcha();
		update();
		el.mobile.focus();
	}

	// Wiring.
	if (plan) {
		el.mobileHint.textContent = t('forExample', { example: plan.example, cc: plan.cc, intl: plan.example.replace(/^0/, '') });
	}

	el.mobile.addEventListener('input', () => {
		checkMobile(state.mobileTouched);
		update();
	});
	el.mobile.addEventListener('blur', () => {
		if (el.mobile.value.trim() !== '') state.mobileTouched = true;
		checkMobile(state.mobileTouched);
	});

	el.imageCode.addEventListener('input', () => {
		if (el.imageCodeMsg.textContent) {
			setInvalid(el.imageCode, false);
			setMsg(el.imageCodeMsg, '');
		}
		update();
	});

	el.smsCode.addEventListener('input', () => {
		const digits = el.smsCode.value.replace(/\D/g, '').slice(0, config.codeLength);
		if (digits !== el.smsCode.value) el.smsCode.value = digits;
		if (el.smsCode.getAttribute('aria-invalid')) {
			setInvalid(el.smsCode, false);
			setMsg(el.smsCodeMsg, '');
		}
		update();
	});

	el.captcha.addEventListener('load', () => el.captcha.classList.remove('loading'));
	el.captcha.addEventListener('error', () => {
		el.captcha.classList.remove('loading');
		setMsg(el.imageCodeMsg, t('imageLoadFailed'));
	});
	el.captcha.addEventListener('click', newCaptchaByUser);
	el.newCaptcha.addEventListener('click', newCaptchaByUser);
	el.listen.addEventListener('click', listenByUser);
	el.audio.addEventListener('error', () => {
		if (el.audio.getAttribute('src')) setMsg(el.imageCodeMsg, t('audioFailed'));
	});
	el.sendSMS.addEventListener('click', requestSMS);

	// Enter in any field: verify when a code is typed, else ask for one.
	// Browsers submit a form on Enter only while its submit button (Verify)
	// is enabled, so Enter is handled here for every field.
	function enter() {
		if (smsCodeComplete()) {
			verify();
		} else if (!el.sendSMS.disabled) {
			requestSMS();
		} else if (!checkMobile(true)) {
			state.mobileTouched = true;
			el.mobile.focus();
		} else if (imageCodeValue().length !== answerLength() && countdownLeft() === 0) {
			el.imageCode.focus();
		} else {
			el.smsCode.focus();
		}
	}
	el.form.addEventListener('keydown', (ev) => {
		if (ev.key !== 'Enter' || ev.isComposing || !(ev.target instanceof HTMLInputElement)) return;
		ev.preventDefault();
		enter();
	});
	el.form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		enter();
	});

	loadCaptcha();
	update();
	root.dataset.ready = 'true';
})();
