"""BigModel's documented error table: each business code with its HTTP status and message.

Source: the error-code page of the BigModel docs (https://docs.bigmodel.cn/cn/faq/api-code, also
https://docs.bigmodel.cn/cn/api/api-code). The page gives the message of every business code, and a
table of HTTP statuses with their meaning; codes whose HTTP status the current page names (1220 under
403, 1222 under 400, 1313 to 1321 under 429) carry it here. For the rest the status is the one the page's
status table gives their kind of error: authentication 401, account 429 ("账户异常", "账户余额已用完"),
parameters 400, server 500, limits 429. 434 and 435 are HTTP statuses of the file API without a business
code of their own; the sandbox sends the status as the code (uncertain: no body is documented for them).

Placeholders such as ${API_name} are filled from the request when the sandbox answers with the code.
"""

import re

# code -> (HTTP status, message as documented)
ERRORS = {
    "500": (500, "内部错误"),
    "434": (434, "暂无API权限，微调API及文件管理API为内测阶段，我们会尽快开放"),
    "435": (435, "文件大小超过100MB"),
    "1000": (401, "身份验证失败"),
    "1001": (401, "Header中未收到Authentication参数，无法进行身份验证"),
    "1002": (401, "Authentication Token非法，请确认Authentication Token正确传递"),
    "1003": (401, "Authentication Token已过期，请重新生成/获取"),
    "1004": (401, "通过Authentication Token的验证失败"),
    "1100": (429, "账户读写"),
    "1110": (429, "您的账户当前处于非活动状态。请检查账户信息"),
    "1111": (429, "您的账户不存在"),
    "1112": (429, "您的账户已被锁定，请联系客服解锁"),
    "1113": (429, "您的账户已欠费，请充值后重试"),
    "1120": (429, "无法成功访问您的账户，请稍后重试"),
    "1121": (429, "账户存违规行为，账号已被锁定"),
    "1200": (500, "API 调用错误"),
    "1210": (400, "API 调用参数有误，请检查文档"),
    "1211": (400, "模型不存在，请检查模型代码"),
    "1212": (400, "当前模型不支持 ${method} 调用方式"),
    "1213": (400, "未正常接收到 ${field} 参数"),
    "1214": (400, "${field} 参数非法。请检查文档"),
    "1215": (400, "${field1} 与 ${field2} 不能同时设置，请检查文档"),
    "1220": (403, "您无权访问 ${API_name}"),
    "1221": (400, "API ${API_name} 已下线"),
    "1222": (400, "API ${API_name} 不存在"),
    "1230": (500, "API 调用流程出错"),
    "1231": (400, "您已有请求：${request_id}"),
    "1234": (500, "网络错误，错误id：${error_id}，请联系客服"),
    "1261": (400, "Prompt 超长"),
    "1300": (400, "API 调用被策略阻止"),
    "1301": (
        400,
        "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的提示语，感谢您的配合",
    ),
    "1302": (429, "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额"),
    "1303": (429, "您当前使用该API的频率过高，请降低频率，或联系客服增加限额"),
    "1304": (429, "该API已达今日调用次数限额，如有更多需求，请联系客服购买"),
    "1305": (429, "该API已触发流量限制"),
    "1308": (429, "已达到 ${number} ${unit} 的使用上限。您的限额将在 ${next_flush_time} 重置"),
    "1309": (429, "您的 GLM Coding Plan 套餐已到期，暂无法使用，前往官方续订后即可恢复"),
    "1310": (429, "您已达到每周/每月使用上限，您的限额将在 ${next_flush_time} 重置"),
    "1311": (429, "当前订阅套餐暂未开放${model_name}权限"),
    "1312": (429, "该模型当前访问量过大，请您稍后再试，或切换其他模型如 ${model_name} 等"),
    "1313": (
        429,
        "您的账户当前使用模式不符合公平使用策略，请求频率已受到限制。详情请参阅《条款与协议-订阅服务协议》，"
        "如需恢复请前往个人中心-编程套餐总览-顶部申请解除限制",
    ),
    "1314": (429, "您的企业套餐已失效，请联系企业管理员。"),
    "1315": (429, "该 API Key 仅限企业编程套餐场景使用，请到官网更换对应产品类型的 API Key"),
    "1316": (
        429,
        "已达到 5 小时使用上限。主账号余额不足，无法使用超额按量付费。您的限额将在 ${next_flush_time} 重置。",
    ),
    "1317": (429, "已达到 7 天使用上限。主账号余额不足，无法使用超额按量付费。您的限额将在 ${next_flush_time} 重置。"),
    "1318": (
        429,
        "已达到 5 小时使用上限，且已达子账号月消费上限，无法使用超额按量付费，请联系管理员调整。"
        "您的限额将在 ${next_flush_time} 重置。",
    ),
    "1319": (
        429,
        "已达到 7 天使用上限，且已达子账号月消费上限，无法使用超额按量付费，请联系管理员调整。"
        "您的限额将在 ${next_flush_time} 重置。",
    ),
    "1320": (
        429,
        "已达到 5 小时使用上限，且已达企业级月消费上限，无法使用超额按量付费，请联系管理员调整。"
        "您的限额将在 ${next_flush_time} 重置。",
    ),
    "1321": (
        429,
        "已达到 7 天使用上限，且已达企业级月消费上限，无法使用超额按量付费，请联系管理员调整。"
        "您的限额将在 ${next_flush_time} 重置。",
    ),
}

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def status_of(code):
    """The documented HTTP status of a business code; None for a code the table does not list."""
    entry = ERRORS.get(str(code))
    return entry[0] if entry else None


def message_of(code, **values):
    """The documented message of `code`, its placeholders filled from `values` (left as written if absent)."""
    entry = ERRORS.get(str(code))
    if entry is None:
        return "injected fault"
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), entry[1])
