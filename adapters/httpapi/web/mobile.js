// The registration page's check of a typed mobile number, before it is
// sent: the server (libphonenumber) has the final word, this only spares a
// round trip for obvious typos and shows an example in the page's region.
'use strict';

// newMobileCheck returns, for region (an ISO 3166-1 code, maybe unknown):
// plan, that region's mobile plan or undefined; compact(raw), the number
// without the spaces and punctuation people type; and problem(raw), why a
// number cannot be right, in the page's language (t), or '' when it may be.
window.newMobileCheck = ({ region, t }) => {
	// Mobile numbering plans of common regions: country calling code, the
	// national significant number of a mobile, whether a trunk "0" may lead
	// the national form, and an example. The server (libphonenumber) has the
	// final word; this only spares a round trip for obvious typos.
	const plans = {
		CN: { cc: '86', mobile: /^1[3-9]\d{9}$/, trunk: false, example: '138 0013 8000' },
		HK: { cc: '852', mobile: /^[4-9]\d{7}$/, trunk: false, example: '5123 4567' },
		TW: { cc: '886', mobile: /^9\d{8}$/, trunk: true, example: '0912 345 678' },
		SG: { cc: '65', mobile: /^[89]\d{7}$/, trunk: false, example: '8123 4567' },
		JP: { cc: '81', mobile: /^[789]0\d{8}$/, trunk: true, example: '090 1234 5678' },
		IN: { cc: '91', mobile: /^[6-9]\d{9}$/, trunk: true, example: '98765 43210' },
		AU: { cc: '61', mobile: /^4\d{8}$/, trunk: true, example: '0412 345 678' },
		GB: { cc: '44', mobile: /^7\d{9}$/, trunk: true, example: '07400 123456' },
		DE: { cc: '49', mobile: /^1[5-7]\d{8,9}$/, trunk: true, example: '01512 3456789' },
		FR: { cc: '33', mobile: /^[67]\d{8}$/, trunk: true, example: '06 12 34 56 78' },
		US: { cc: '1', mobile: /^[2-9]\d{2}[2-9]\d{6}$/, trunk: false, example: '(201) 555-0123' },
		CA: { cc: '1', mobile: /^[2-9]\d{2}[2-9]\d{6}$/, trunk: false, example: '(506) 234-5678' },
	};
	const plan = plans[region];

	// compact drops the spaces and punctuation people type.
	const compact = (raw) => raw.replace(/[\s().\-\u00a0]/g, '');

	// problem returns why a number cannot be right, or '' when it may be.
	function problem(raw) {
		const v = compact(raw);
		if (v === '') return t('enterMobile');
		if (v.startsWith('+')) {
			const digits = v.slice(1);
			if (!/^[1-9]\d{6,14}$/.test(digits)) return t('intlFormat');
			// Calling codes are prefix-free: at most one plan's code leads.
			const p = Object.values(plans).find((q) => digits.startsWith(q.cc));
			if (p && !p.mobile.test(digits.slice(p.cc.length))) return t('notMobileFor', { cc: p.cc });
			return '';
		}
		if (!/^\d+$/.test(v)) return t('digitsOnly');
		if (!plan) return /^\d{6,15}$/.test(v) ? '' : t('incomplete');
		const national = plan.trunk && v.startsWith('0') ? v.slice(1) : v;
		if (plan.mobile.test(national)) return '';
		return t('validSuchAs', { example: plan.example });
	}

	return { plan, compact, problem };
};
