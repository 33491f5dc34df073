// register.js of the seed, without Vue: the same data, the same checks and
// the same send_sms_code, whose answers it treats exactly as the seed does.
var vm = {
	mobile: '', image_code: '', uuid: '', image_code_url: '',
	sending_flag: false, sms_code_tip: 'Get SMS code',
	error_mobile: false, error_image_code: false, error_sms_code: false,
	error_image_code_message: '', error_sms_code_message: '',

	generate_image_code: function () {
		this.uuid = generateUUID();
		this.image_code_url = "/image_codes/" + this.uuid + "/";
		render();
	},
	check_mobile: function () {
		var re = /^1[3-9]\d{9}$/;
		this.error_mobile = !re.test(this.mobile);
	},
	check_image_code: function () {
		if (this.image_code.length != 4) {
			this.error_image_code_message = 'Please fill in the graphic verification code';
			this.error_image_code = true;
		} else {
			this.error_image_code = false;
		}
	},
	send_sms_code: function () {
		if (this.sending_flag == true) {
			return;
		}
		this.sending_flag = true;
		this.check_mobile();
		this.check_image_code();
		if (this.error_mobile == true || this.error_image_code == true) {
			this.sending_flag = false;
			render();
			return;
		}
		var url = '/sms_codes/' + this.mobile + '/?image_code=' + this.image_code + '&uuid=' + this.uuid;
		var self = this;
		axios.get(url, { responseType: 'json' })
			.then(function (response) {
				if (response.data.code == '0') {
					var num = 60;
					var t = setInterval(function () {
						if (num == 1) {
							clearInterval(t);
							self.sms_code_tip = 'Get SMS code';
							self.sending_flag = false;
						} else {
							num -= 1;
							self.sms_code_tip = num + ' s';
						}
						render();
					}, 1000, 60);
				} else {
					if (response.data.code == '4001') {
						self.error_image_code_message = response.data.errmsg;
						self.error_image_code = true;
					} else { // 4002
						self.error_sms_code_message = response.data.errmsg;
						self.error_sms_code = true;
					}
					self.sending_flag = false;
				}
				render();
			})
			.catch(function (error) {
				console.log(error.response);
				self.sending_flag = false;
				render();
			});
	}
};

// render stands in for Vue's bindings: v-model, :src, v-show and {{ }}.
function render() {
	var $ = function (id) { return document.getElementById(id); };
	$('image_code_img').src = vm.image_code_url;
	$('error_mobile').hidden = !vm.error_mobile;
	$('error_image_code').hidden = !vm.error_image_code;
	$('error_image_code').textContent = vm.error_image_code_message;
	$('error_sms_code').hidden = !vm.error_sms_code;
	$('error_sms_code').textContent = vm.error_sms_code_message;
	$('get_msg_code').textContent = vm.sms_code_tip;
}

document.getElementById('phone').addEventListener('input', function (e) { vm.mobile = e.target.value; });
document.getElementById('pic_code').addEventListener('input', function (e) { vm.image_code = e.target.value; });
document.getElementById('image_code_img').addEventListener('click', function () { vm.generate_image_code(); });
document.getElementById('get_msg_code').addEventListener('click', function () { vm.send_sms_code(); });
vm.generate_image_code();
